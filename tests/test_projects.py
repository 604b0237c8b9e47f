"""Projects API: both URL prefixes, `@current`, PATCH validation, tenancy."""

from __future__ import annotations

import httpx
import pytest

from tests.factories.identity import Team, add_project, create_key


@pytest.mark.parametrize("prefix", ["/api/projects", "/api/environments"])
@pytest.mark.parametrize("slash", ["", "/"])
async def test_retrieve_by_id_and_current(
    client: httpx.AsyncClient, team: Team, prefix: str, slash: str
) -> None:
    by_id = await client.get(f"{prefix}/{team.id}{slash}", headers=team.headers)
    current = await client.get(f"{prefix}/@current{slash}", headers=team.headers)
    assert by_id.status_code == 200, by_id.text
    assert current.json() == by_id.json()
    body = by_id.json()
    assert body["id"] == team.id
    assert body["api_token"].startswith("phc_")
    assert body["timezone"] == "UTC"
    assert body["created_at"].endswith("Z")


async def test_list_contains_only_member_projects(
    client: httpx.AsyncClient, team: Team, other_team: Team
) -> None:
    response = await client.get("/api/projects/", headers=team.headers)
    assert response.status_code == 200
    body = response.json()
    assert [p["id"] for p in body["results"]] == [team.id]
    assert body["count"] == 1
    assert body["next"] is None
    assert body["previous"] is None


async def test_patch_updates_fields(client: httpx.AsyncClient, team: Team) -> None:
    response = await client.patch(
        f"/api/projects/{team.id}/",
        headers=team.headers,
        json={"name": "Renamed", "timezone": "Asia/Kolkata", "week_start_day": 1},
    )
    assert response.status_code == 200, response.text
    again = await client.get(f"/api/environments/{team.id}/", headers=team.headers)
    assert (again.json()["name"], again.json()["timezone"], again.json()["week_start_day"]) == (
        "Renamed",
        "Asia/Kolkata",
        1,
    )


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"week_start_day": 3}, "week_start_day"),
        ({"name": ""}, "name"),
        ({"unknown_field": 1}, "unknown_field"),
        ({"test_account_filters": "nope"}, "test_account_filters"),
        ({"timezone": None}, "timezone"),
    ],
)
async def test_patch_rejects_bad_input(
    client: httpx.AsyncClient, team: Team, payload: dict, attr: str
) -> None:
    before = (await client.get(f"/api/projects/{team.id}/", headers=team.headers)).json()
    response = await client.patch(f"/api/projects/{team.id}/", headers=team.headers, json=payload)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert body["attr"] == attr
    after = (await client.get(f"/api/projects/{team.id}/", headers=team.headers)).json()
    assert after == before


async def test_other_projects_are_forbidden(client: httpx.AsyncClient, team: Team, other_team: Team) -> None:
    for prefix in ("/api/projects", "/api/environments"):
        response = await client.get(f"{prefix}/{other_team.id}/", headers=team.headers)
        assert response.status_code == 403
        assert response.json() == {
            "type": "authentication_error",
            "code": "permission_denied",
            "detail": "You don't have access to the project.",
            "attr": None,
        }


async def test_unknown_project_is_404(client: httpx.AsyncClient, team: Team) -> None:
    for project_id in ("999999", "abc"):
        response = await client.get(f"/api/projects/{project_id}/", headers=team.headers)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


async def test_key_scoped_to_one_project(client: httpx.AsyncClient, team: Team, sessionmaker) -> None:
    second = await add_project(sessionmaker, team, "Second")
    async with sessionmaker() as session:
        _, raw = await create_key(session, team.user, scoped_teams=[second.id])
        await session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    assert (await client.get(f"/api/projects/{second.id}/", headers=headers)).status_code == 200
    denied = await client.get(f"/api/projects/{team.id}/", headers=headers)
    assert denied.status_code == 403
    assert denied.json()["detail"] == f"API key does not have access to the requested project: ID {team.id}."
    current = await client.get("/api/projects/@current/", headers=headers)
    assert current.json()["id"] == second.id
    listed = await client.get("/api/projects/", headers=headers)
    assert [p["id"] for p in listed.json()["results"]] == [second.id]
