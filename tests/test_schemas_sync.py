"""`app/schemas/generated/` must be exactly what `scripts/generate_schemas.py` produces from `openapi/`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "app" / "schemas" / "generated"


def test_generated_schemas_are_in_sync(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_schemas.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    fresh = {path.name: path.read_text() for path in tmp_path.glob("*.py")}
    committed = {path.name: path.read_text() for path in GENERATED.glob("*.py")}
    assert fresh.keys() == committed.keys(), "run: uv run python scripts/generate_schemas.py"
    for name, text in fresh.items():
        assert committed[name] == text, f"{name} is stale; run: uv run python scripts/generate_schemas.py"


async def test_openapi_and_docs_served(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    assert "/api/projects/{project_id}" in paths
    assert "/api/environments/{environment_id}" in paths
    parameters = paths["/api/environments/{environment_id}"]["get"]["parameters"]
    assert [p["name"] for p in parameters if p["in"] == "path"] == ["environment_id"]
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
