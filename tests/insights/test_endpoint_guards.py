"""Every insights endpoint, both URL prefixes: the scope it needs, and 404 for another project's insight."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories.identity import Team, create_key
from tests.factories.insights import create_insight, trends

PREFIXES = ["/api/projects", "/api/environments"]
# (method, path under the project, body, scope it needs, whether it addresses one insight)
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, str, bool]] = [
    ("GET", "insights/", None, "insight:read", False),
    ("POST", "insights/", {"query": trends()}, "insight:write", False),
    ("GET", "insights/{id}/", None, "insight:read", True),
    ("PATCH", "insights/{id}/", {"name": "x"}, "insight:write", True),
    ("PUT", "insights/{id}/", {"name": "x"}, "insight:write", True),
    ("DELETE", "insights/{id}/", None, "insight:write", True),
    ("GET", "insights/{id}/activity/", None, "activity_log:read", True),
    ("GET", "insights/activity/", None, "activity_log:read", False),
    ("POST", "insights/{id}/viewed/", None, "insight:read", True),
    ("POST", "insights/viewed/", {"insight_ids": [1]}, "insight:read", False),
    ("GET", "insights/my_last_viewed/", None, "insight:read", False),
    ("POST", "insights/cancel/", {"client_query_id": "q"}, "insight:write", False),
    (
        "POST",
        "insights/bulk_update_tags/",
        {"ids": [1], "action": "add", "tags": ["a"]},
        "insight:write",
        False,
    ),
    ("POST", "insights/generate_name/", {"query": trends()}, "insight:write", False),
    ("POST", "insights/generate_metadata/", {"query": trends()}, "insight:write", False),
    ("GET", "insights/{id}/analyze/", None, "insight:read", True),
    ("GET", "insights/{id}/suggestions/", None, "insight:read", True),
    ("POST", "insights/{id}/suggestions/", {}, "insight:read", True),
    ("GET", "insights/{id}/sharing/", None, "sharing_configuration:read", True),
    ("PATCH", "insights/{id}/sharing/", {"enabled": True}, "sharing_configuration:write", True),
    ("POST", "insights/{id}/sharing/refresh/", None, "sharing_configuration:write", True),
    ("GET", "insights/{id}/access_controls/", None, "access_control:read", True),
    ("PUT", "insights/{id}/access_controls/", {"access_level": "viewer"}, "access_control:write", True),
    ("GET", "insights/{id}/global_access_controls/", None, "access_control:read", True),
]
IDS = [f"{method} {path}" for method, path, *_ in ENDPOINTS]


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
    insight = await create_insight(client, team)
    unrelated = "feature_flag:read" if not scope.startswith("feature_flag") else "insight:read"
    headers = await key_with(sessionmaker, team, [unrelated])
    url = f"{prefix}/{team.id}/" + path.format(id=insight["id"])
    response = await client.request(method, url, json=body, headers=headers)
    assert response.status_code == 403, response.text
    assert response.json()["detail"] == f"API key missing required scope '{scope}'"
    allowed = await client.request(
        method, url, json=body, headers=await key_with(sessionmaker, team, [scope])
    )
    assert allowed.status_code not in (401, 403), allowed.text


# DELETE is a bare 405 whatever the id (PostHog never looks the insight up).
ONE_INSIGHT = [(i, e) for i, e in zip(IDS, ENDPOINTS, strict=True) if e[4] and e[0] != "DELETE"]


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(
    ("method", "path", "body", "scope", "one"), [e for _, e in ONE_INSIGHT], ids=[i for i, _ in ONE_INSIGHT]
)
async def test_another_projects_insight_is_404(
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
    theirs = await create_insight(client, other_team)
    response = await client.request(
        method, f"{prefix}/{team.id}/" + path.format(id=theirs["id"]), json=body, headers=team.headers
    )
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"
