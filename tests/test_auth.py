"""Authentication and scopes: key sources, 401/403 bodies, hashing, `last_used_at`."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from app.auth import has_scope, hash_key_value
from app.models import PersonalAPIKey
from tests.factories.identity import Team, create_key

NOT_AUTHENTICATED = {
    "type": "authentication_error",
    "code": "not_authenticated",
    "detail": "Authentication credentials were not provided.",
    "attr": None,
}


class TestScopeRules:
    @pytest.mark.parametrize(
        ("granted", "required", "allowed"),
        [
            (["*"], "insight:write", True),
            ([], "insight:write", True),
            (["insight:read"], "insight:read", True),
            (["insight:write"], "insight:read", True),
            (["insight:read"], "insight:write", False),
            (["dashboard:write"], "insight:read", False),
        ],
    )
    def test_has_scope(self, granted: list[str], required: str, allowed: bool) -> None:
        assert has_scope(granted, required) is allowed


class TestAuthentication:
    async def test_missing_key_is_401(self, client: httpx.AsyncClient, team: Team) -> None:
        response = await client.get(f"/api/projects/{team.id}/")
        assert response.status_code == 401
        assert response.json() == NOT_AUTHENTICATED
        assert response.headers["www-authenticate"] == "Bearer"

    async def test_invalid_key_is_401(self, client: httpx.AsyncClient, team: Team) -> None:
        response = await client.get(f"/api/projects/{team.id}/", headers={"Authorization": "Bearer phx_nope"})
        assert response.status_code == 401
        assert response.json() == {
            "type": "authentication_error",
            "code": "authentication_failed",
            "detail": "Personal API key found in request Authorization header is invalid.",
            "attr": None,
        }

    async def test_key_in_query_string(self, client: httpx.AsyncClient, team: Team) -> None:
        response = await client.get(f"/api/projects/{team.id}/", params={"personal_api_key": team.raw_key})
        assert response.status_code == 200

    async def test_key_in_json_body(self, client: httpx.AsyncClient, team: Team) -> None:
        response = await client.patch(
            f"/api/projects/{team.id}/", json={"personal_api_key": team.raw_key, "name": "Via body"}
        )
        # The key authenticates; the body's other fields are still validated (extra field rejected).
        assert response.status_code == 400
        assert response.json()["attr"] == "personal_api_key"

    async def test_key_is_stored_hashed_and_never_returned(
        self, client: httpx.AsyncClient, team: Team, sessionmaker
    ) -> None:
        async with sessionmaker() as session:
            stored = (await session.execute(select(PersonalAPIKey))).scalars().one()
        assert stored.secure_value == hash_key_value(team.raw_key)
        assert team.raw_key not in stored.secure_value
        listed = await client.get("/api/personal_api_keys/", headers=team.headers)
        assert team.raw_key not in listed.text
        assert listed.json()[0]["mask_value"] == f"{team.raw_key[:4]}...{team.raw_key[-4:]}"

    async def test_last_used_at_is_recorded(
        self, client: httpx.AsyncClient, team: Team, sessionmaker
    ) -> None:
        assert (await client.get("/api/users/@me/", headers=team.headers)).status_code == 200
        async with sessionmaker() as session:
            stored = (await session.execute(select(PersonalAPIKey))).scalars().one()
        assert stored.last_used_at is not None


class TestScopes:
    async def test_missing_scope_is_403_with_posthog_message(
        self, client: httpx.AsyncClient, team: Team, sessionmaker
    ) -> None:
        async with sessionmaker() as session:
            _, raw = await create_key(session, team.user, scopes=["project:read"])
            await session.commit()
        headers = {"Authorization": f"Bearer {raw}"}
        assert (await client.get(f"/api/projects/{team.id}/", headers=headers)).status_code == 200
        response = await client.patch(f"/api/projects/{team.id}/", headers=headers, json={"name": "x"})
        assert response.status_code == 403
        assert response.json() == {
            "type": "authentication_error",
            "code": "permission_denied",
            "detail": "API key missing required scope 'project:write'",
            "attr": None,
        }
        me = await client.get("/api/users/@me/", headers=headers)
        assert me.json()["detail"] == "API key missing required scope 'user:read'"

    async def test_write_scope_implies_read(
        self, client: httpx.AsyncClient, team: Team, sessionmaker
    ) -> None:
        async with sessionmaker() as session:
            _, raw = await create_key(session, team.user, scopes=["project:write"])
            await session.commit()
        response = await client.get(f"/api/projects/{team.id}/", headers={"Authorization": f"Bearer {raw}"})
        assert response.status_code == 200


class TestPersonalAPIKeys:
    async def test_create_shows_value_once(self, client: httpx.AsyncClient, team: Team) -> None:
        created = await client.post(
            "/api/personal_api_keys/", headers=team.headers, json={"label": "ci", "scopes": ["insight:read"]}
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["value"].startswith("phx_")
        assert body["scopes"] == ["insight:read"]
        fetched = await client.get(f"/api/personal_api_keys/{body['id']}/", headers=team.headers)
        assert "value" not in fetched.json()
        assert fetched.json()["mask_value"] == body["mask_value"]
        works = await client.get(
            "/api/personal_api_keys/", headers={"Authorization": f"Bearer {body['value']}"}
        )
        assert works.status_code == 403  # insight:read only

    async def test_delete_revokes(self, client: httpx.AsyncClient, team: Team) -> None:
        created = (
            await client.post("/api/personal_api_keys/", headers=team.headers, json={"label": "tmp"})
        ).json()
        new_headers = {"Authorization": f"Bearer {created['value']}"}
        assert (await client.get("/api/users/@me/", headers=new_headers)).status_code == 200
        deleted = await client.delete(f"/api/personal_api_keys/{created['id']}/", headers=team.headers)
        assert deleted.status_code == 204
        assert (await client.get("/api/users/@me/", headers=new_headers)).status_code == 401

    async def test_cannot_touch_other_users_keys(
        self, client: httpx.AsyncClient, team: Team, other_team: Team
    ) -> None:
        response = await client.delete(f"/api/personal_api_keys/{other_team.key.id}/", headers=team.headers)
        assert response.status_code == 404
        assert (await client.get("/api/users/@me/", headers=other_team.headers)).status_code == 200

    @pytest.mark.parametrize(
        ("payload", "attr"),
        [
            ({}, "label"),
            ({"label": "x", "scopes": ["insight:delete"]}, "scopes__0"),
            ({"label": "x", "scoped_teams": [999999]}, "scoped_teams__0"),
        ],
    )
    async def test_create_validation(
        self, client: httpx.AsyncClient, team: Team, payload: dict, attr: str
    ) -> None:
        response = await client.post("/api/personal_api_keys/", headers=team.headers, json=payload)
        assert response.status_code == 400
        assert response.json()["attr"] == attr
        assert len((await client.get("/api/personal_api_keys/", headers=team.headers)).json()) == 1

    async def test_me(self, client: httpx.AsyncClient, team: Team) -> None:
        body = (await client.get("/api/users/@me/", headers=team.headers)).json()
        assert body["email"] == team.user.email
        assert body["team"]["id"] == team.id
        assert [org["id"] for org in body["organizations"]] == [str(team.project.organization_id)]
