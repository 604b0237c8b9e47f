"""`/event_definitions/` under both URL prefixes: definitions seeded through ingestion, expectations
computed here from the seeded events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.factories.identity import Team, create_team
from tests.factories.ingested import event, ingest
from tests.factories.insights import add_member, create_insight, trends

PREFIXES = ["/api/projects", "/api/environments"]
FIELDS = {
    "id", "name", "owner", "description", "tags", "created_at", "updated_at", "updated_by", "last_seen_at",
    "last_updated_at", "verified", "verified_at", "verified_by", "hidden", "enforcement_mode", "is_action",
    "action_id", "is_calculating", "last_calculated_at", "created_by", "post_to_slack", "default_columns",
    "media_preview_urls",
}  # fmt: skip
DAY = datetime(2024, 6, 1, 9, tzinfo=UTC)
# name → when it was last seen (several events per name; the latest counts)
SEEN = {
    "installed_app": [DAY - timedelta(days=3), DAY],
    "entered_free_trial": [DAY + timedelta(hours=5)],
    "$pageview": [DAY - timedelta(hours=1), DAY + timedelta(hours=2)],
    "purchase": [DAY - timedelta(days=2)],
    "rated_app": [DAY - timedelta(days=5)],
}


async def _seed(engine: AsyncEngine, team: Team) -> None:
    raws = [event(name, when, k=1) for name, times in SEEN.items() for when in times]
    await ingest(engine, team.id, raws, now=DAY + timedelta(days=1))


async def _create(client: httpx.AsyncClient, team: Team, prefix: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"{prefix}/{team.id}/event_definitions/", json=body, headers=team.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def _names(client: httpx.AsyncClient, team: Team, prefix: str, query: str = "") -> list[str]:
    response = await client.get(f"{prefix}/{team.id}/event_definitions/{query}", headers=team.headers)
    assert response.status_code == 200, response.text
    return [row["name"] for row in response.json()["results"]]


def _default_order(last_seen: dict[str, datetime | None]) -> list[str]:
    """-last_seen_at::date, then name; never-seen definitions last."""
    seen = sorted((n for n, t in last_seen.items() if t), key=lambda n: (-last_seen[n].toordinal(), n))  # type: ignore[union-attr]
    return seen + sorted(n for n, t in last_seen.items() if t is None)


@pytest.mark.parametrize("prefix", PREFIXES)
class TestList:
    async def test_ingested_definitions_with_every_field_in_the_default_order(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, other_team: Team, prefix: str
    ) -> None:
        await _seed(engine, team)
        await ingest(engine, other_team.id, [event("theirs", DAY)], now=DAY)
        await _create(client, team, prefix, name="watched_movie")  # never seen
        body = (await client.get(f"{prefix}/{team.id}/event_definitions/", headers=team.headers)).json()
        assert body["count"] == len(SEEN) + 1
        assert set(body["results"][0]) == FIELDS
        last_seen = {row["name"]: row["last_seen_at"] for row in body["results"]}
        expected_seen = {name: max(times) for name, times in SEEN.items()}
        assert {n: datetime.fromisoformat(v) for n, v in last_seen.items() if v} == expected_seen
        assert last_seen["watched_movie"] is None
        assert [row["name"] for row in body["results"]] == _default_order(
            {**expected_seen, "watched_movie": None}
        )

    async def test_explicit_orderings(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, prefix: str
    ) -> None:
        await _seed(engine, team)
        await _create(client, team, prefix, name="watched_movie")
        latest = {name: max(times) for name, times in SEEN.items()}
        by_date_then_name_desc = sorted(latest, key=lambda n: (-latest[n].toordinal(), [-ord(c) for c in n]))
        assert await _names(client, team, prefix, "?ordering=-last_seen_at::date&ordering=-name") == [
            *by_date_then_name_desc, "watched_movie",
        ]  # fmt: skip
        assert await _names(client, team, prefix, "?ordering=name") == sorted([*SEEN, "watched_movie"])
        assert await _names(client, team, prefix, "?ordering=-last_seen_at") == [
            *sorted(latest, key=lambda n: latest[n], reverse=True), "watched_movie",
        ]  # fmt: skip
        # Unknown fields are ignored: the default order.
        assert await _names(client, team, prefix, "?ordering=volume") == await _names(client, team, prefix)

    @pytest.mark.parametrize(
        ("search", "expected"),
        [
            ("app", ["installed_app", "rated_app"]),
            ("App", ["installed_app", "rated_app"]),
            ("free tri", ["entered_free_trial"]),
            ("ed mov", ["watched_movie"]),
            ("app%20", ["installed_app", "rated_app"]),
            ("app trial", []),
            ("%", []),
            ("_", ["entered_free_trial", "installed_app", "rated_app", "watched_movie"]),
        ],
    )
    async def test_search_needs_every_word(
        self,
        client: httpx.AsyncClient,
        engine: AsyncEngine,
        team: Team,
        prefix: str,
        search: str,
        expected: list[str],
    ) -> None:
        await _seed(engine, team)
        await _create(client, team, prefix, name="watched_movie")
        found = await _names(client, team, prefix, f"?search={search}&ordering=name")
        assert found == expected

    async def test_event_type_filters(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, prefix: str
    ) -> None:
        await _seed(engine, team)
        custom = sorted(n for n in SEEN if not n.startswith("$"))
        assert await _names(client, team, prefix, "?event_type=event_custom&ordering=name") == custom
        assert await _names(client, team, prefix, "?event_type=event_posthog") == ["$pageview"]
        assert await _names(client, team, prefix, "?event_type=all&ordering=name") == sorted(SEEN)
        bad = await client.get(f"{prefix}/{team.id}/event_definitions/?event_type=nope", headers=team.headers)
        assert bad.status_code == 400
        assert bad.json()["attr"] == "event_type"

    async def test_pagination_of_306_definitions(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, prefix: str
    ) -> None:
        await ingest(engine, team.id, [event(f"event_{n:03}", DAY) for n in range(306)], now=DAY)
        url: str | None = f"{prefix}/{team.id}/event_definitions/"
        pages = []
        while url:
            body = (await client.get(url, headers=team.headers)).json()
            assert body["count"] == 306
            pages.append([row["name"] for row in body["results"]])
            url = body["next"]
        assert [len(p) for p in pages] == [100, 100, 100, 6]
        assert [name for p in pages for name in p] == [f"event_{n:03}" for n in range(306)]

    async def test_tags_hidden_names_and_verified_filters(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, prefix: str
    ) -> None:
        await _create(client, team, prefix, name="a", tags=["Growth"], verified=True)
        await _create(client, team, prefix, name="b", hidden=True)
        await _create(client, team, prefix, name="c", tags=["kpi"])
        assert await _names(client, team, prefix, '?tags=["growth","kpi"]&ordering=name') == ["a", "c"]
        assert await _names(client, team, prefix, "?exclude_hidden=true&ordering=name") == ["a", "c"]
        assert await _names(client, team, prefix, '?names=["b","c"]&ordering=name') == ["b", "c"]
        assert await _names(client, team, prefix, "?names=a,b&ordering=name") == ["a", "b"]
        assert await _names(client, team, prefix, '?excluded_properties=["a"]&ordering=name') == ["b", "c"]
        assert await _names(client, team, prefix, "?verified=true") == ["a"]

    async def test_another_projects_list_is_403(
        self, client: httpx.AsyncClient, team: Team, other_team: Team, prefix: str
    ) -> None:
        response = await client.get(f"{prefix}/{other_team.id}/event_definitions/", headers=team.headers)
        assert response.status_code == 403
        assert response.json()["detail"] == "You don't have access to the project."


@pytest.mark.parametrize("prefix", PREFIXES)
class TestCrud:
    async def test_create_retrieve_by_name_update_delete(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, prefix: str
    ) -> None:
        created = await _create(client, team, prefix, name="signed_up", description="A signup", tags=[" KPI"])
        assert (created["last_seen_at"], created["tags"], created["description"]) == (
            None,
            ["kpi"],
            "A signup",
        )
        assert (created["verified"], created["hidden"], created["enforcement_mode"]) == (
            False,
            False,
            "allow",
        )
        base = f"{prefix}/{team.id}/event_definitions"
        assert (await client.get(f"{base}/{created['id']}/", headers=team.headers)).json() == created
        by_name = await client.get(f"{base}/by_name/?name=signed_up", headers=team.headers)
        assert by_name.json()["id"] == created["id"]
        assert (await client.get(f"{base}/by_name/?name=signed", headers=team.headers)).status_code == 404

        patched = await client.patch(
            f"{base}/{created['id']}/",
            json={"verified": True, "default_columns": ["event", "person"], "post_to_slack": True,
                  "enforcement_mode": "reject", "owner": team.user.id},
            headers=team.headers,
        )  # fmt: skip
        body = patched.json()
        assert patched.status_code == 200, body
        assert body["verified"] is True
        assert body["verified_by"]["id"] == body["updated_by"]["id"] == body["owner"]["id"] == team.user.id
        assert body["verified_at"] is not None
        assert (body["default_columns"], body["post_to_slack"], body["enforcement_mode"]) == (
            ["event", "person"], True, "reject",
        )  # fmt: skip
        hidden = (
            await client.patch(f"{base}/{created['id']}/", json={"hidden": True}, headers=team.headers)
        ).json()
        assert (hidden["hidden"], hidden["verified"], hidden["verified_at"], hidden["verified_by"]) == (
            True, False, None, None,
        )  # fmt: skip

        deleted = await client.delete(f"{base}/{created['id']}/", headers=team.headers)
        assert deleted.status_code == 204
        assert (await client.get(f"{base}/{created['id']}/", headers=team.headers)).status_code == 404
        async with engine.connect() as connection:
            logged = await connection.execute(
                text(
                    "SELECT activity, detail FROM activity_logs"
                    " WHERE team_id = :t AND scope = 'EventDefinition' AND item_id = :i ORDER BY created_at"
                ),
                {"t": team.id, "i": created["id"]},
            )  # fmt: skip
            entries = logged.all()
        assert [entry.activity for entry in entries] == ["created", "changed", "changed", "deleted"]
        assert all(entry.detail["name"] == "signed_up" for entry in entries)
        changed_fields = {change["field"] for change in entries[1].detail["changes"]}
        assert changed_fields == {"verified", "default_columns", "post_to_slack", "enforcement_mode", "owner"}

    async def test_rules_are_400(
        self, client: httpx.AsyncClient, team: Team, other_team: Team, prefix: str
    ) -> None:
        base = f"{prefix}/{team.id}/event_definitions/"
        await _create(client, team, prefix, name="dup")
        for body, attr, detail in (
            ({"name": "dup"}, "name", "Event definition with name 'dup' already exists"),
            (
                {"name": "x", "hidden": True, "verified": True},
                None,
                "An event cannot be both hidden and verified",
            ),
            ({"description": "no name"}, "name", "This field is required."),
            ({"name": "y", "owner": other_team.user.id}, "owner", None),
            ({"name": "z", "enforcement_mode": "strict"}, "enforcement_mode", None),
            ({"name": ""}, "name", None),
        ):
            response = await client.post(base, json=body, headers=team.headers)
            assert response.status_code == 400, body
            assert response.json()["attr"] == attr, response.json()
            if detail:
                assert response.json()["detail"] == detail

    async def test_other_projects_definitions_are_404(
        self, client: httpx.AsyncClient, team: Team, other_team: Team, prefix: str
    ) -> None:
        theirs = await _create(client, other_team, prefix, name="secret")
        base = f"{prefix}/{team.id}/event_definitions"
        for method, path in (("GET", ""), ("PATCH", ""), ("PUT", ""), ("DELETE", ""), ("GET", "metrics/")):
            response = await client.request(
                method, f"{base}/{theirs['id']}/{path}", json={}, headers=team.headers
            )
            assert response.status_code == 404, (method, path)
        assert (await client.get(f"{base}/by_name/?name=secret", headers=team.headers)).status_code == 404
        assert (await client.get(f"{base}/not-a-uuid/", headers=team.headers)).status_code == 404

    async def test_bulk_update_tags(
        self, client: httpx.AsyncClient, team: Team, other_team: Team, prefix: str
    ) -> None:
        a = await _create(client, team, prefix, name="a", tags=["x"])
        b = await _create(client, team, prefix, name="b")
        theirs = await _create(client, other_team, prefix, name="c")
        url = f"{prefix}/{team.id}/event_definitions/bulk_update_tags/"
        body = {"ids": [a["id"], b["id"], theirs["id"]], "action": "add", "tags": ["New", "x"]}
        response = await client.post(url, json=body, headers=team.headers)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "updated": [{"id": a["id"], "tags": ["new", "x"]}, {"id": b["id"], "tags": ["new", "x"]}],
            "skipped": [{"id": theirs["id"], "reason": "Not found"}],
        }
        removed = await client.post(
            url, json={"ids": [a["id"]], "action": "remove", "tags": ["x"]}, headers=team.headers
        )
        assert removed.json()["updated"] == [{"id": a["id"], "tags": ["new"]}]
        assert (await client.get(f"{prefix}/{other_team.id}/event_definitions/{theirs['id']}/",
                                 headers=other_team.headers)).json()["tags"] == []  # fmt: skip


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_metrics_come_from_events_and_insights(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    team: Team,
    prefix: str,
) -> None:
    now = datetime.now(UTC)
    times = [now - timedelta(days=d) for d in (1, 2, 29, 31, 40)]
    await ingest(engine, team.id, [event("purchase", t) for t in times] + [event("other", now)], now=now)
    await create_insight(client, team, prefix, query=trends("purchase"))
    await create_insight(client, team, prefix, query=trends("other"))
    await create_insight(
        client,
        team,
        prefix,
        filters={"insight": "TRENDS", "events": [{"id": "purchase", "type": "events"}]},
        query=None,
    )
    gone = await create_insight(client, team, prefix, query=trends("purchase"))
    await client.patch(
        f"{prefix}/{team.id}/insights/{gone['id']}/", json={"deleted": True}, headers=team.headers
    )
    definition = (
        await client.get(f"{prefix}/{team.id}/event_definitions/by_name/?name=purchase", headers=team.headers)
    ).json()
    response = await client.get(
        f"{prefix}/{team.id}/event_definitions/{definition['id']}/metrics/", headers=team.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["volume_30_day"] == sum(1 for t in times if t >= now - timedelta(days=30))
    assert datetime.fromisoformat(body["last_seen_at"]) == max(times)
    assert body["insight_count"] == 2
    assert body["query_usage_30_day"] == 2  # both were created (so changed) just now


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_scopes(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], prefix: str
) -> None:
    reader = await create_team(sessionmaker, scopes=["event_definition:read"])
    writer, _ = await add_member(sessionmaker, reader, scopes=["event_definition:write"])
    nobody = await create_team(sessionmaker, scopes=["insight:read"])
    base = f"{prefix}/{reader.id}/event_definitions"
    created = await client.post(f"{base}/", json={"name": "e"}, headers=writer.headers)
    assert created.status_code == 201
    definition_id = created.json()["id"]
    for path in ("/", f"/{definition_id}/", f"/{definition_id}/metrics/", "/by_name/?name=e", "/python/",
                 "/typescript/", "/golang/"):  # fmt: skip
        assert (await client.get(base + path, headers=reader.headers)).status_code == 200, path
        denied = await client.get(f"{prefix}/{nobody.id}/event_definitions{path}", headers=nobody.headers)
        assert denied.status_code == 403, path
        assert denied.json()["detail"] == "API key missing required scope 'event_definition:read'"
    for method, path, body in (
        ("POST", "/", {"name": "f"}),
        ("PATCH", f"/{definition_id}/", {"description": "d"}),
        ("DELETE", f"/{definition_id}/", None),
        ("POST", "/bulk_update_tags/", {"ids": [definition_id], "action": "add", "tags": ["t"]}),
    ):
        response = await client.request(method, base + path, json=body, headers=reader.headers)
        assert response.status_code == 403, (method, path)
        assert response.json()["detail"] == "API key missing required scope 'event_definition:write'"
