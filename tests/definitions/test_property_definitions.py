"""`/property_definitions/` and `/events/values/` under both URL prefixes, on properties seeded through
ingestion; expectations computed here from the seeded events."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.factories.identity import Team, create_team
from tests.factories.ingested import event, ingest

PREFIXES = ["/api/projects", "/api/environments"]
NOW = datetime.now(UTC)
EVENTS = [
    event("purchase", NOW, amount=10, plan="pro", coupon=True),
    event("purchase", NOW, amount=12.5, plan="team"),
    event("$pageview", NOW, **{"$browser": "Chrome", "plan": "free"}),
    event("signup", NOW, source="ad", **{"$set": {"email": "a@b.c", "age": 40}}),
]
# property → (type, is_numerical), as ingestion infers them from the values above
EVENT_PROPERTIES = {
    "amount": ("Numeric", True), "plan": ("String", False), "coupon": ("Boolean", False),
    "$browser": ("String", False), "source": ("String", False),
}  # fmt: skip


async def _list(client: httpx.AsyncClient, team: Team, prefix: str, query: str = "") -> dict[str, Any]:
    response = await client.get(f"{prefix}/{team.id}/property_definitions/{query}", headers=team.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("prefix", PREFIXES)
class TestPropertyDefinitions:
    async def test_event_and_person_properties_as_ingested(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, other_team: Team, prefix: str
    ) -> None:
        await ingest(engine, team.id, EVENTS, now=NOW)
        await ingest(engine, other_team.id, [event("x", NOW, theirs=1)], now=NOW)
        body = await _list(client, team, prefix)
        assert body["count"] == len(EVENT_PROPERTIES)
        assert [row["name"] for row in body["results"]] == sorted(EVENT_PROPERTIES)
        assert {
            r["name"]: (r["property_type"], r["is_numerical"]) for r in body["results"]
        } == EVENT_PROPERTIES
        assert all(r["type"] == "event" and r["is_seen_on_filtered_events"] is None for r in body["results"])
        people = await _list(client, team, prefix, "?type=person")
        assert {r["name"]: r["property_type"] for r in people["results"]} == {
            "age": "Numeric",
            "email": "String",
        }

    async def test_search_numerical_and_event_names(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, prefix: str
    ) -> None:
        await ingest(engine, team.id, EVENTS, now=NOW)
        found = [r["name"] for r in (await _list(client, team, prefix, "?search=o"))["results"]]
        assert found == sorted(n for n in EVENT_PROPERTIES if "o" in n)
        assert [r["name"] for r in (await _list(client, team, prefix, "?search=ou co"))["results"]] == [
            "coupon"
        ]
        numerical = await _list(client, team, prefix, "?is_numerical=true")
        assert [r["name"] for r in numerical["results"]] == ["amount"]
        seen = {"amount", "plan", "coupon"}  # the properties ingested with `purchase`
        ranked = await _list(client, team, prefix, '?event_names=["purchase"]')
        names = [r["name"] for r in ranked["results"]]
        assert names == sorted(seen) + sorted(set(EVENT_PROPERTIES) - seen)
        assert {r["name"]: r["is_seen_on_filtered_events"] for r in ranked["results"]} == {
            n: n in seen for n in EVENT_PROPERTIES
        }
        only = await _list(client, team, prefix, '?event_names=["purchase"]&filter_by_event_names=true')
        assert (only["count"], [r["name"] for r in only["results"]]) == (3, sorted(seen))
        bad = await client.get(f"{prefix}/{team.id}/property_definitions/?type=group", headers=team.headers)
        assert bad.status_code == 400

    async def test_retrieve_and_update(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, other_team: Team, prefix: str
    ) -> None:
        await ingest(engine, team.id, EVENTS, now=NOW)
        plan = next(r for r in (await _list(client, team, prefix))["results"] if r["name"] == "plan")
        url = f"{prefix}/{team.id}/property_definitions/{plan['id']}/"
        assert (await client.get(url, headers=team.headers)).json()["name"] == "plan"
        patched = await client.patch(
            url,
            json={"description": "Billing plan", "tags": ["Billing"], "property_type": "Numeric"},
            headers=team.headers,
        )
        body = patched.json()
        assert patched.status_code == 200, body
        assert (body["description"], body["tags"], body["property_type"], body["is_numerical"]) == (
            "Billing plan", ["billing"], "Numeric", True,
        )  # fmt: skip
        assert body["updated_by"]["id"] == team.user.id
        invalid = await client.patch(url, json={"property_type": "Color"}, headers=team.headers)
        assert invalid.status_code == 400
        foreign = f"{prefix}/{other_team.id}/property_definitions/{plan['id']}/"
        assert (await client.get(foreign, headers=other_team.headers)).status_code == 404
        assert (
            await client.patch(foreign, json={"description": "x"}, headers=other_team.headers)
        ).status_code == 404


@pytest.mark.parametrize("prefix", PREFIXES)
class TestEventValues:
    async def test_values_most_frequent_first(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, other_team: Team, prefix: str
    ) -> None:
        browsers = ["Chrome"] * 3 + ["Firefox"] * 2 + ["Safari"]
        raws = [
            event("$pageview", NOW - timedelta(hours=i), **{"$browser": b}) for i, b in enumerate(browsers)
        ]
        raws += [event("$pageview", NOW - timedelta(days=10), **{"$browser": "Opera"})]  # older than 7 days
        raws += [event("click", NOW, **{"$browser": "Edge"}), event("click", NOW, **{"$browser": None})]
        await ingest(engine, team.id, raws, now=NOW)
        await ingest(engine, other_team.id, [event("$pageview", NOW, **{"$browser": "Theirs"})], now=NOW)
        base = f"{prefix}/{team.id}/events/values/"

        async def names(query: str) -> list[Any]:
            response = await client.get(base + query, headers=team.headers)
            assert response.status_code == 200, response.text
            return [row["name"] for row in response.json()]

        recent = Counter([*browsers, "Edge"])
        expected = sorted(recent, key=lambda b: (-recent[b], b))
        assert await names("?key=$browser") == expected
        assert await names("?key=$browser&event_name=$pageview") == ["Chrome", "Firefox", "Safari"]
        assert await names("?key=$browser&value=fIRe") == ["Firefox"]
        assert await names("?key=nothing") == []
        missing = await client.get(base, headers=team.headers)
        assert missing.status_code == 400
        assert missing.json()["attr"] == "key"

    async def test_non_string_values_keep_their_json_type(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, prefix: str
    ) -> None:
        raws = [event("e", NOW, n=3), event("e", NOW, n=3), event("e", NOW, n=1.5), event("e", NOW, n=True)]
        await ingest(engine, team.id, raws, now=NOW)
        response = await client.get(f"{prefix}/{team.id}/events/values/?key=n", headers=team.headers)
        values = [row["name"] for row in response.json()]
        assert values[0] == 3  # seen twice
        assert sorted(map(str, values[1:])) == ["1.5", "True"]  # once each
        assert {type(v) for v in values} == {int, float, bool}


async def test_scopes(client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    reader = await create_team(sessionmaker, scopes=["property_definition:read"])
    nobody = await create_team(sessionmaker, scopes=["event_definition:read"])
    for prefix in PREFIXES:
        assert (
            await client.get(f"{prefix}/{reader.id}/property_definitions/", headers=reader.headers)
        ).status_code == 200
        assert (
            await client.get(f"{prefix}/{reader.id}/events/values/?key=a", headers=reader.headers)
        ).status_code == 200
        for path in ("/property_definitions/", "/events/values/?key=a"):
            denied = await client.get(f"{prefix}/{nobody.id}{path}", headers=nobody.headers)
            assert denied.status_code == 403
            assert denied.json()["detail"] == "API key missing required scope 'property_definition:read'"
