"""Actions API: both URL prefixes, PostHog's shape, soft delete, unique names, pinning, step
validation, scopes and tenancy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories.identity import Team, create_key

PREFIXES = ["/api/projects", "/api/environments"]
STEP = {"event": "$pageview", "url": "/pricing", "url_matching": "contains"}
STEP_KEYS = {"event", "properties", "selector", "tag_name", "text", "text_matching", "href", "href_matching"}
STEP_KEYS |= {"url", "url_matching"}


async def create(
    client: httpx.AsyncClient, team: Team, prefix: str = "/api/projects", **body: Any
) -> httpx.Response:
    return await client.post(
        f"{prefix}/{team.id}/actions/", headers=team.headers, json={"name": "Pricing", **body}
    )


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class TestCrud:
    @pytest.mark.parametrize("prefix", PREFIXES)
    async def test_create_returns_posthogs_shape(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        before = datetime.now(UTC)
        response = await create(client, team, prefix, description="Visits", steps=[STEP])
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == {
            "id", "name", "description", "tags", "post_to_slack", "slack_message_format", "steps",
            "created_at", "created_by", "deleted", "is_calculating", "last_calculated_at", "team_id",
            "is_action", "bytecode_error", "pinned_at", "creation_context",
        }  # fmt: skip
        assert (body["name"], body["description"], body["team_id"]) == ("Pricing", "Visits", team.id)
        assert (body["deleted"], body["is_calculating"], body["is_action"], body["post_to_slack"]) == (
            False,
            False,
            True,
            False,
        )
        assert body["created_by"]["email"] == team.user.email
        assert body["created_by"]["id"] == team.user.id
        assert body["created_at"].endswith("Z")
        assert parse_time(body["created_at"]) >= before.replace(microsecond=0)
        [step] = body["steps"]
        assert set(step) == STEP_KEYS
        assert (step["event"], step["url"], step["url_matching"], step["text"], step["properties"]) == (
            "$pageview",
            "/pricing",
            "contains",
            None,
            [],
        )

    @pytest.mark.parametrize("prefix", PREFIXES)
    async def test_retrieve_and_list(self, client: httpx.AsyncClient, team: Team, prefix: str) -> None:
        first = (await create(client, team, name="A")).json()
        second = (await create(client, team, name="B")).json()
        got = await client.get(f"{prefix}/{team.id}/actions/{first['id']}/", headers=team.headers)
        assert got.status_code == 200
        assert got.json() == first
        listed = (await client.get(f"{prefix}/{team.id}/actions/", headers=team.headers)).json()
        assert listed["count"] == 2
        assert [a["id"] for a in listed["results"]] == [second["id"], first["id"]]  # latest change first
        page = (await client.get(f"{prefix}/{team.id}/actions/?limit=1", headers=team.headers)).json()
        assert len(page["results"]) == 1
        assert page["next"].endswith("limit=1&offset=1")

    async def test_offsets_beyond_bigint_are_400s(self, client: httpx.AsyncClient, team: Team) -> None:
        response = await client.get(f"/api/projects/{team.id}/actions/?offset={2**70}", headers=team.headers)
        assert (response.status_code, response.json()["attr"]) == (400, "offset")
        far = await client.get(f"/api/projects/{team.id}/actions/?offset={2**40}", headers=team.headers)
        assert (far.status_code, far.json()["results"]) == (200, [])

    async def test_patch_changes_only_what_is_sent(self, client: httpx.AsyncClient, team: Team) -> None:
        action = (await create(client, team, description="d", steps=[STEP])).json()
        url = f"/api/projects/{team.id}/actions/{action['id']}/"
        response = await client.patch(
            url, headers=team.headers, json={"name": "Renamed", "post_to_slack": True}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["name"], body["description"], body["post_to_slack"], body["steps"]) == (
            "Renamed",
            "d",
            True,
            action["steps"],
        )
        assert parse_time(body["last_calculated_at"]) > parse_time(action["last_calculated_at"])
        steps = [{"event": "signup"}, {"event": None, "text": "Buy", "text_matching": "exact"}]
        body = (await client.patch(url, headers=team.headers, json={"steps": steps})).json()
        assert [(s["event"], s["text"]) for s in body["steps"]] == [("signup", None), (None, "Buy")]

    async def test_put_needs_a_name_and_keeps_unsent_fields(
        self, client: httpx.AsyncClient, team: Team
    ) -> None:
        action = (await create(client, team, description="kept")).json()
        url = f"/api/projects/{team.id}/actions/{action['id']}/"
        missing = await client.put(url, headers=team.headers, json={"description": "x"})
        assert missing.status_code == 400
        assert (missing.json()["attr"], missing.json()["code"]) == ("name", "required")
        body = (await client.put(url, headers=team.headers, json={"name": "New"})).json()
        assert (body["name"], body["description"]) == ("New", "kept")

    async def test_read_only_and_unknown_fields_are_ignored(
        self, client: httpx.AsyncClient, team: Team
    ) -> None:
        response = await create(
            client, team, id=999, is_calculating=True, team_id=12345, created_by=None, whatever=1,
            steps=[{**STEP, "isNew": True}],
        )  # fmt: skip
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["id"] != 999
        assert body["team_id"] == team.id
        assert body["is_calculating"] is False
        assert body["created_by"]["id"] == team.user.id
        assert "isNew" not in body["steps"][0]

    async def test_tags_are_validated(self, client: httpx.AsyncClient, team: Team) -> None:
        bad = await create(client, team, tags=["ok", 5])
        assert (bad.status_code, bad.json()["attr"]) == (400, "tags__1")
        assert (await create(client, team, tags=["Growth"])).json()["tags"] == []  # not stored yet


class TestSoftDelete:
    async def test_delete_is_not_allowed(self, client: httpx.AsyncClient, team: Team) -> None:
        action = (await create(client, team)).json()
        response = await client.delete(
            f"/api/projects/{team.id}/actions/{action['id']}/", headers=team.headers
        )
        assert response.status_code == 405
        assert response.json()["code"] == "method_not_allowed"
        assert "PATCH" in response.headers["allow"]

    async def test_patch_deleted_hides_from_list_but_not_from_retrieve(
        self, client: httpx.AsyncClient, team: Team
    ) -> None:
        action = (await create(client, team)).json()
        url = f"/api/projects/{team.id}/actions/{action['id']}/"
        deleted = await client.patch(url, headers=team.headers, json={"deleted": True})
        assert deleted.json()["deleted"] is True
        listed = (await client.get(f"/api/projects/{team.id}/actions/", headers=team.headers)).json()
        assert (listed["count"], listed["results"]) == (0, [])
        assert (await client.get(url, headers=team.headers)).json()["deleted"] is True
        restored = await client.patch(url, headers=team.headers, json={"deleted": False})
        assert restored.json()["deleted"] is False
        assert (await client.get(f"/api/projects/{team.id}/actions/", headers=team.headers)).json()[
            "count"
        ] == 1


class TestNames:
    async def test_names_are_unique_among_live_actions(self, client: httpx.AsyncClient, team: Team) -> None:
        first = (await create(client, team)).json()
        clash = await create(client, team)
        assert clash.status_code == 400
        assert clash.json() == {
            "type": "validation_error",
            "code": "unique",
            "detail": f"This project already has an action with this name, ID {first['id']}",
            "attr": "name",
        }
        url = f"/api/projects/{team.id}/actions/{first['id']}/"
        await client.patch(url, headers=team.headers, json={"deleted": True})
        replacement = await create(client, team)
        assert replacement.status_code == 201
        restore = await client.patch(url, headers=team.headers, json={"deleted": False})
        assert (restore.status_code, restore.json()["code"]) == (400, "unique")

    async def test_same_name_in_another_project(
        self, client: httpx.AsyncClient, team: Team, other_team: Team
    ) -> None:
        assert (await create(client, team)).status_code == 201
        assert (await create(client, other_team)).status_code == 201

    @pytest.mark.parametrize(
        ("body", "attr", "code"),
        [
            ({"name": "   "}, "name", "blank"),
            ({"name": ""}, "name", "invalid_input"),
            ({"name": "x" * 401}, "name", "max_length"),
            ({"name": "a\x00b"}, "name", "invalid_input"),
            ({"description": None}, "description", "null"),
            ({"steps": None}, "steps", "null"),
            ({"post_to_slack": "yes"}, "post_to_slack", "invalid_input"),
        ],
    )
    async def test_invalid_fields(
        self, client: httpx.AsyncClient, team: Team, body: dict[str, Any], attr: str, code: str
    ) -> None:
        response = await create(client, team, **body)
        assert response.status_code == 400, response.text
        assert (response.json()["attr"], response.json()["code"], response.json()["type"]) == (
            attr,
            code,
            "validation_error",
        )


class TestSteps:
    @pytest.mark.parametrize(
        ("step", "attr", "code"),
        [
            ({"url": "([a-z", "url_matching": "regex"}, "steps__0__url", "invalid_regex"),
            ({"text": "*oops", "text_matching": "regex"}, "steps__0__text", "invalid_regex"),
            (
                {"properties": [{"key": "$browser", "value": "(", "operator": "regex", "type": "event"}]},
                "steps__0__properties",
                "invalid_regex",
            ),
            (
                {"properties": [{"key": "$browser", "value": "x", "operator": "nope", "type": "event"}]},
                "steps__0__properties__0__operator",
                "invalid_input",
            ),
            (
                {"properties": [{"key": "$browser", "type": "cohort"}]},
                "steps__0__properties__0",
                "invalid_input",
            ),
            ({"selector": "button:hover"}, "steps__0__selector", "invalid_input"),
            ({"url": "/x", "url_matching": "startswith"}, "steps__0__url_matching", "invalid_choice"),
            ({"event": "a\x00"}, "steps__0__event", "invalid_input"),
        ],
    )
    async def test_bad_steps_are_400s(
        self, client: httpx.AsyncClient, team: Team, step: dict[str, Any], attr: str, code: str
    ) -> None:
        response = await create(client, team, steps=[step])
        assert response.status_code == 400, response.text
        assert (response.json()["attr"], response.json()["code"]) == (attr, code)
        listed = (await client.get(f"/api/projects/{team.id}/actions/", headers=team.headers)).json()
        assert listed["count"] == 0

    async def test_a_bad_regex_leaves_the_request_usable(self, client: httpx.AsyncClient, team: Team) -> None:
        """The regex check runs in a savepoint: the same transaction goes on to the next request fine."""
        action = (await create(client, team)).json()
        url = f"/api/projects/{team.id}/actions/{action['id']}/"
        bad = await client.patch(
            url, headers=team.headers, json={"steps": [{"url": "(", "url_matching": "regex"}]}
        )
        assert bad.status_code == 400
        good = await client.patch(
            url, headers=team.headers, json={"steps": [{"url": "^/a", "url_matching": "regex"}]}
        )
        assert good.status_code == 200
        assert good.json()["steps"][0]["url"] == "^/a"

    async def test_too_many_steps(self, client: httpx.AsyncClient, team: Team) -> None:
        response = await create(client, team, steps=[{"event": "e"}] * 101)
        assert (response.status_code, response.json()["attr"]) == (400, "steps")


class TestPinning:
    async def test_pin_uses_server_time_and_unpin_clears(self, client: httpx.AsyncClient, team: Team) -> None:
        action = (await create(client, team)).json()
        assert action["pinned_at"] is None
        url = f"/api/projects/{team.id}/actions/{action['id']}/"
        before = datetime.now(UTC)
        pinned = (
            await client.patch(url, headers=team.headers, json={"pinned_at": "1999-01-01T00:00:00Z"})
        ).json()
        assert parse_time(pinned["pinned_at"]) >= before.replace(microsecond=0)
        again = (
            await client.patch(url, headers=team.headers, json={"pinned_at": "2030-01-01T00:00:00Z"})
        ).json()
        assert again["pinned_at"] == pinned["pinned_at"]
        assert (await client.patch(url, headers=team.headers, json={"pinned_at": ""})).json()[
            "pinned_at"
        ] is None
        assert (await client.patch(url, headers=team.headers, json={"pinned_at": None})).json()[
            "pinned_at"
        ] is None


class TestAccess:
    async def test_another_projects_action_is_not_found(
        self, client: httpx.AsyncClient, team: Team, other_team: Team
    ) -> None:
        theirs = (await create(client, other_team)).json()
        for method in ("GET", "PATCH", "PUT"):
            response = await client.request(
                method,
                f"/api/projects/{team.id}/actions/{theirs['id']}/",
                headers=team.headers,
                json={"name": "x"},
            )
            assert response.status_code == 404, method
            assert response.json()["code"] == "not_found"
        unchanged = await client.get(
            f"/api/projects/{other_team.id}/actions/{theirs['id']}/", headers=other_team.headers
        )
        assert unchanged.json()["name"] == "Pricing"

    @pytest.mark.parametrize("action_id", ["abc", "0", "-1", "99999999999", "1.5"])
    async def test_malformed_ids_are_404(self, client: httpx.AsyncClient, team: Team, action_id: str) -> None:
        response = await client.get(f"/api/projects/{team.id}/actions/{action_id}/", headers=team.headers)
        assert response.status_code == 404

    async def test_foreign_project_is_403(
        self, client: httpx.AsyncClient, team: Team, other_team: Team
    ) -> None:
        response = await client.get(f"/api/projects/{other_team.id}/actions/", headers=team.headers)
        assert response.status_code == 403

    async def test_scopes(
        self, client: httpx.AsyncClient, team: Team, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async with sessionmaker() as session:
            _, read_only = await create_key(session, team.user, scopes=["action:read"])
            _, queries = await create_key(session, team.user, scopes=["query:read"])
            await session.commit()
        action = (await create(client, team)).json()
        url = f"/api/projects/{team.id}/actions/"
        as_reader = {"Authorization": f"Bearer {read_only}"}
        assert (await client.get(url, headers=as_reader)).status_code == 200
        assert (await client.get(f"{url}{action['id']}/", headers=as_reader)).status_code == 200
        for method, path in (
            ("POST", url),
            ("PATCH", f"{url}{action['id']}/"),
            ("PUT", f"{url}{action['id']}/"),
        ):
            denied = await client.request(method, path, headers=as_reader, json={"name": "x"})
            assert denied.status_code == 403
            assert denied.json()["detail"] == "API key missing required scope 'action:write'"
        other = await client.get(url, headers={"Authorization": f"Bearer {queries}"})
        assert other.status_code == 403
        assert other.json()["detail"] == "API key missing required scope 'action:read'"
