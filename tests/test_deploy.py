"""Deploy files: compose wires postgres, redis, migrate, api and worker; the image runs as non-root."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _compose_command() -> list[str] | None:
    """`docker compose` (v2 plugin) if present, else the standalone `docker-compose`; None without either."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


@pytest.mark.skipif(_compose_command() is None, reason="no docker compose client installed")
def test_compose_config_has_the_services() -> None:
    command = _compose_command()
    assert command is not None
    result = subprocess.run(
        [*command, "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert set(services) == {"postgres", "redis", "migrate", "api", "worker"}
    assert services["migrate"]["command"] == ["analytics", "migrate"]
    assert services["worker"]["command"] == ["analytics", "worker"]
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in ("migrate", "api", "worker"):
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")


def test_compose_file_structure() -> None:
    """Checked without docker too (the plugin is absent on some machines)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "api", "worker"}
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("migrate", "api", "worker"):
        assert services[name]["build"] == "."
        assert set(services[name]["environment"]) >= {"DATABASE_URL", "REDIS_URL"}


def test_dockerfile_runs_as_non_root_with_locked_deps() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "uv sync --frozen --no-dev" in text
    final_stage = text.rsplit("FROM ", 1)[1]
    assert "USER analytics" in final_stage
