"""Every dashboards endpoint, both URL prefixes: its scope, and 404 for another project's dashboard."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories.identity import Team, create_key
from tests.factories.insights import new_dashboard

PREFIXES = ["/api/projects", "/api/environments"]
# (method, path under the project, body, scope it needs, whether it addresses one dashboard)
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, str, bool]] = [
    ("GET", "dashboards/", None, "dashboard:read", False),
    ("POST", "dashboards/", {"name": "x"}, "dashboard:write", False),
    ("GET", "dashboards/{id}/", None, "dashboard:read", True),
    ("PATCH", "dashboards/{id}/", {"name": "x"}, "dashboard:write", True),
    ("PUT", "dashboards/{id}/", {"name": "x"}, "dashboard:write", True),
    ("DELETE", "dashboards/{id}/", None, "dashboard:write", True),
    ("PATCH", "dashboards/{id}/move_tile/", {"tile": {"id": 1}, "to_dashboard": 1}, "dashboard:write", True),
    ("POST", "dashboards/{id}/move_tile/", {"tile": {"id": 1}, "to_dashboard": 1}, "dashboard:write", True),
    ("POST", "dashboards/{id}/reorder_tiles/", {"tile_order": [1]}, "dashboard:write", True),
    ("GET", "dashboards/{id}/run_insights/", None, "query:read", True),
    ("GET", "dashboards/{id}/stream_tiles/", None, "dashboard:read", True),
    ("POST", "dashboards/{id}/snapshot/", {}, "dashboard:read", True),
    ("POST", "dashboards/{id}/analyze_refresh_result/", {"cache_key": "x"}, "dashboard:read", True),
    ("POST", "dashboards/bulk_update_tags/", {"ids": [1], "action": "add", "tags": ["a"]},
     "dashboard:write", False),
    ("POST", "dashboards/create_from_template_json/", {"template": {"template_name": "t", "tiles": []}},
     "dashboard:write", False),
    ("POST", "dashboards/create_unlisted_dashboard/", {"tag": "mcp-analytics"}, "dashboard:write", False),
    ("GET", "dashboards/{id}/sharing/", None, "sharing_configuration:read", True),
    ("PATCH", "dashboards/{id}/sharing/", {"enabled": True}, "sharing_configuration:write", True),
    ("POST", "dashboards/{id}/sharing/refresh/", None, "sharing_configuration:write", True),
    ("GET", "dashboards/{id}/access_controls/", None, "access_control:read", True),
    ("PUT", "dashboards/{id}/access_controls/", {"access_level": "viewer"}, "access_control:write", True),
    ("GET", "dashboard_templates/", None, "dashboard_template:read", False),
    ("GET", "dashboard_templates/DEFAULT_APP/", None, "dashboard_template:read", False),
]  # fmt: skip
IDS = [f"{method} {path}" for method, path, *_ in ENDPOINTS]
# DELETE is a bare 405 whatever the id.
ONE = [(i, e) for i, e in zip(IDS, ENDPOINTS, strict=True) if e[4] and e[0] != "DELETE"]


async def key_with(
    sessionmaker: async_sessionmaker[AsyncSession], team: Team, scopes: list[str]
) -> dict[str, str]:
    async with sessionmaker() as session:
        _, raw = await create_key(session, team.user, scopes=scopes)
        await session.commit()
    return {"Authorization": f"Bearer {raw}"}


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(("method", "path", "body", "scope", "one"), ENDPOINTS, ids=IDS)
async def test_missing_scope_is_403(
    client: httpx.AsyncClient,
    team: Team,
    sessionmaker: async_sessionmaker[AsyncSession],
    prefix: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    scope: str,
    one: bool,
) -> None:
    board = await new_dashboard(client, team)
    url = f"{prefix}/{team.id}/" + path.format(id=board["id"])
    response = await client.request(
        method, url, json=body, headers=await key_with(sessionmaker, team, ["feature_flag:read"])
    )
    assert response.status_code == 403, response.text
    assert response.json()["detail"] == f"API key missing required scope '{scope}'"
    allowed = await client.request(
        method, url, json=body, headers=await key_with(sessionmaker, team, [scope])
    )
    assert allowed.status_code not in (401, 403), allowed.text


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(
    ("method", "path", "body", "scope", "one"), [e for _, e in ONE], ids=[i for i, _ in ONE]
)
async def test_another_projects_dashboard_is_404(
    client: httpx.AsyncClient,
    team: Team,
    other_team: Team,
    prefix: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    scope: str,
    one: bool,
) -> None:
    theirs = await new_dashboard(client, other_team)
    url = f"{prefix}/{team.id}/" + path.format(id=theirs["id"])
    response = await client.request(method, url, json=body, headers=team.headers)
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"
