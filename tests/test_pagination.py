"""`{count, next, previous, results}` with absolute links, on a real list endpoint."""

from __future__ import annotations

import httpx

from tests.factories.identity import Team, add_project


async def test_links_walk_the_whole_list(client: httpx.AsyncClient, team: Team, sessionmaker) -> None:
    for n in range(4):
        await add_project(sessionmaker, team, f"Extra {n}")
    first = (await client.get("/api/projects/?limit=2", headers=team.headers)).json()
    assert first["count"] == 5
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/projects/?limit=2&offset=2"
    second = (await client.get(first["next"], headers=team.headers)).json()
    assert second["previous"] == "http://testserver/api/projects/?limit=2"
    third = (await client.get(second["next"], headers=team.headers)).json()
    assert third["next"] is None
    seen = [p["id"] for page in (first, second, third) for p in page["results"]]
    assert len(seen) == len(set(seen)) == 5


async def test_limit_bounds(client: httpx.AsyncClient, team: Team) -> None:
    for bad in ("0", "-1", "100000"):
        response = await client.get(f"/api/projects/?limit={bad}", headers=team.headers)
        assert response.status_code == 400
        assert response.json()["attr"] == "limit"
