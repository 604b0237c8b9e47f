"""The CLI as a new user runs it: embedded start, bootstrap, clean stop, restart, clear start errors."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import free_port

CLI = [sys.executable, "-m", "app.cli"]


def _clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SITE_URL")}
    return {**env, "ANALYTICS_DATA_DIR": str(data_dir), **extra}


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        assert process.poll() is None, "serve exited early"
        try:
            if httpx.get(f"{url}/_health", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"not healthy within {timeout}s")


def _family(process: subprocess.Popen[bytes], data_dir: Path) -> list[psutil.Process]:
    """serve, its children, and the embedded servers it started."""
    parent = psutil.Process(process.pid)
    family = [parent, *parent.children(recursive=True)]
    postmaster_pid = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    valkey_pid = json.loads((data_dir / "valkey" / "state.json").read_text())["pid"]
    family += [psutil.Process(postmaster_pid), psutil.Process(valkey_pid)]
    return family


def _kill_all(process: subprocess.Popen[bytes], data_dir: Path) -> None:
    """Failure path: leave nothing running, even if the test died half-way."""
    with contextlib.suppress(psutil.Error, OSError, ValueError, KeyError):
        family = _family(process, data_dir)
        for member in family:
            with contextlib.suppress(psutil.Error):
                member.kill()
    process.kill()


def _stop(process: subprocess.Popen[bytes], family: list[psutil.Process]) -> None:
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    _, alive = psutil.wait_procs(family, timeout=15)
    assert [p for p in alive if p.status() != psutil.STATUS_ZOMBIE] == [], "stray processes after stop"


@pytest.mark.timeout(240)
def test_embedded_serve_bootstrap_stop_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _clean_env(data_dir)
    serve_cmd = [*CLI, "serve", "--port", str(port)]

    first = subprocess.Popen(serve_cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert _wait_healthy(url, first) < 60
        bootstrapped = subprocess.run(
            [*CLI, "bootstrap", "--json"], env=env, capture_output=True, text=True, check=True, timeout=60
        )
        payload = json.loads(bootstrapped.stdout)  # exactly one JSON object on stdout
        assert set(payload) == {"project_id", "project_api_token", "personal_api_key", "api_url"}
        assert payload["api_url"] == url
        headers = {"Authorization": f"Bearer {payload['personal_api_key']}"}
        current = httpx.get(f"{url}/api/projects/@current/", headers=headers)
        assert current.status_code == 200
        assert current.json()["id"] == payload["project_id"]
        assert current.json()["api_token"] == payload["project_api_token"]
        family = _family(first, data_dir)
    except BaseException:
        _kill_all(first, data_dir)
        raise
    _stop(first, family)

    second = subprocess.Popen(serve_cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_healthy(url, second)
        again = httpx.get(f"{url}/api/projects/@current/", headers=headers)
        assert again.status_code == 200
        assert again.json()["id"] == payload["project_id"]
        second_bootstrap = json.loads(
            subprocess.run(
                [*CLI, "bootstrap", "--json"], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
        assert second_bootstrap["project_id"] == payload["project_id"]
        assert second_bootstrap["personal_api_key"] != payload["personal_api_key"]
        family = _family(second, data_dir)
    except BaseException:
        _kill_all(second, data_dir)
        raise
    _stop(second, family)


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/nothing", "PostgreSQL"),
        ("REDIS_URL", "redis://127.0.0.1:1/0", "Redis"),
    ],
)
def test_unreachable_server_is_one_clear_line(tmp_path: Path, variable: str, value: str, named: str) -> None:
    env = _clean_env(
        tmp_path,
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=os.environ["REDIS_URL"],
    )
    env[variable] = value
    result = subprocess.run(
        [*CLI, "serve", "--port", str(free_port())], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    assert named in lines[0]
    assert not (tmp_path / "postgres").exists(), "nothing embedded may start when URLs are set"


@pytest.mark.parametrize(
    "url",
    [
        "postgres://u:p@db.example:5432/app?sslmode=require",
        "postgresql://u@h/app",
        "postgresql+asyncpg://u@h/app",
    ],
)
def test_database_url_forms(url: str) -> None:
    from app.settings import Settings

    normalized = Settings(DATABASE_URL=url).database_url
    assert normalized is not None
    assert normalized.startswith("postgresql+asyncpg://")
    assert "sslmode" not in normalized
