"""`/insights/funnel/` and `/insights/funnel/correlation/` under both URL prefixes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.models.actions import Action
from tests.factories.events import EventRow, insert_events
from tests.factories.identity import Team, create_team

PREFIXES = ["/api/projects/{id}", "/api/environments/{id}"]
EVENTS = [{"id": "view", "order": 0}, {"id": "signup", "order": 1}, {"id": "buy", "order": 2}]


def url(prefix: str, team: Team, path: str) -> str:
    return prefix.format(id=team.id) + path


@pytest.fixture
async def seeded(engine: AsyncEngine, team: Team) -> Team:
    """Five actors entering the funnel two days ago: 4 sign up, 2 of them buy (one after an hour)."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    events = []
    for i in range(5):
        person = uuid.uuid4()
        events.append(EventRow("view", start, person, {"$browser": "Chrome" if i < 3 else "Safari"}))
        if i < 4:
            events.append(EventRow("signup", start + timedelta(minutes=10), person))
        if i < 2:
            events.append(EventRow("buy", start + timedelta(minutes=10 + 60 * i), person))
        if i in (0, 1, 4):
            events.append(EventRow("video", start + timedelta(minutes=5), person))
    await insert_events(engine, team.id, events)
    return team


def steps(body: dict[str, Any]) -> list[int]:
    return [step["count"] for step in body["result"]]


class TestFunnel:
    @pytest.mark.parametrize("prefix", PREFIXES)
    async def test_get_with_query_parameters(
        self, client: httpx.AsyncClient, seeded: Team, prefix: str
    ) -> None:
        response = await client.get(
            url(prefix, seeded, "/insights/funnel/"),
            params={"events": json.dumps(EVENTS), "date_from": "-7d", "funnel_window_interval": "1"},
            headers=seeded.headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"result", "timezone", "is_cached", "last_refresh"}
        assert steps(body) == [5, 4, 2]
        assert body["result"][0]["action_id"] == "view"
        assert body["result"][2]["average_conversion_time"] == pytest.approx(1800)
        assert body["timezone"] == "UTC"
        assert body["is_cached"] is False
        assert body["last_refresh"].endswith("Z")

    @pytest.mark.parametrize("prefix", PREFIXES)
    async def test_post_json_body_cache_and_refresh(
        self, client: httpx.AsyncClient, seeded: Team, prefix: str
    ) -> None:
        path = url(prefix, seeded, "/insights/funnel/")
        filters = {"events": EVENTS, "funnel_window_interval": 2, "funnel_window_interval_unit": "hour"}
        first = (await client.post(path, json=filters, headers=seeded.headers)).json()
        again = (await client.post(path, json=filters, headers=seeded.headers)).json()
        forced = (await client.post(path + "?refresh=true", json=filters, headers=seeded.headers)).json()
        assert steps(first) == steps(again) == steps(forced) == [5, 4, 2]
        assert (first["is_cached"], again["is_cached"], forced["is_cached"]) == (False, True, False)

    async def test_breakdown_and_other_visualisations(self, client: httpx.AsyncClient, seeded: Team) -> None:
        path = url(PREFIXES[0], seeded, "/insights/funnel")
        broken = await client.post(
            path, json={"events": EVENTS, "breakdown": "$browser"}, headers=seeded.headers
        )
        assert {s[0]["breakdown_value"]: [x["count"] for x in s] for s in broken.json()["result"]} == {
            "Chrome": [3, 3, 2],
            "Safari": [2, 1, 0],
        }
        ttc = await client.post(
            path, json={"events": EVENTS, "funnel_viz_type": "time_to_convert"}, headers=seeded.headers
        )
        assert ttc.json()["result"]["average_conversion_time"] == pytest.approx((600 + 4200) / 2)
        trends = await client.get(
            path, params={"events": json.dumps(EVENTS), "funnel_viz_type": "trends"}, headers=seeded.headers
        )
        [series] = trends.json()["result"]
        assert len(series["data"]) == 8
        assert series["data"][-3] == 40.0  # 2 of the 5 who entered two days ago converted

    async def test_actions_as_steps(
        self, client: httpx.AsyncClient, seeded: Team, engine: AsyncEngine
    ) -> None:
        async with engine.begin() as connection:
            action_id = (
                await connection.execute(
                    insert(Action)
                    .values(team_id=seeded.id, name="Converted", steps=[{"event": "buy"}])
                    .returning(Action.id)
                )
            ).scalar_one()
        response = await client.post(
            url(PREFIXES[0], seeded, "/insights/funnel"),
            json={"events": [{"id": "view", "order": 0}], "actions": [{"id": action_id, "order": 1}]},
            headers=seeded.headers,
        )
        assert steps(response.json()) == [5, 2]
        second = response.json()["result"][1]
        assert (second["action_id"], second["name"], second["type"]) == (action_id, "Converted", "actions")


class TestCorrelation:
    @pytest.mark.parametrize("prefix", PREFIXES)
    async def test_get_and_post(self, client: httpx.AsyncClient, seeded: Team, prefix: str) -> None:
        path = url(prefix, seeded, "/insights/funnel/correlation/")
        funnel = [{"id": "view", "order": 0}, {"id": "buy", "order": 1}]
        got = await client.get(path, params={"events": json.dumps(funnel)}, headers=seeded.headers)
        posted = await client.post(
            path, json={"events": funnel, "funnel_correlation_type": "events"}, headers=seeded.headers
        )
        assert got.status_code == posted.status_code == 200, got.text
        for body in (got.json(), posted.json()):
            assert set(body) == {"result", "timezone", "is_cached", "last_refresh"}
            events = {e["event"]["event"]: e for e in body["result"]["events"]}
            assert set(events) == {"video", "signup"}
            # video: both converters and 1 of the 3 who dropped; with one added to each cell:
            assert events["video"]["odds_ratio"] == pytest.approx(
                ((2 + 1) * (3 - 1 + 1)) / ((2 - 2 + 1) * (1 + 1))
            )
            assert events["video"]["correlation_type"] == "success"
            assert body["result"]["skewed"] is False

    async def test_excluded_names_as_comma_separated_parameter(
        self, client: httpx.AsyncClient, seeded: Team
    ) -> None:
        response = await client.get(
            url(PREFIXES[0], seeded, "/insights/funnel/correlation"),
            params={
                "events": json.dumps([{"id": "view"}, {"id": "buy", "order": 1}]),
                "funnel_correlation_exclude_event_names": "video,other",
            },
            headers=seeded.headers,
        )
        assert [e["event"]["event"] for e in response.json()["result"]["events"]] == ["signup"]


class TestAccess:
    async def test_missing_scope(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        limited = await create_team(sessionmaker, scopes=["query:read"])
        for path in ("/insights/funnel/", "/insights/funnel/correlation/"):
            response = await client.get(url(PREFIXES[0], limited, path), headers=limited.headers)
            assert response.status_code == 403
            assert response.json() == {
                "type": "authentication_error",
                "code": "permission_denied",
                "detail": "API key missing required scope 'insight:read'",
                "attr": None,
            }

    async def test_other_project_and_no_key(
        self, client: httpx.AsyncClient, team: Team, other_team: Team
    ) -> None:
        path = url(PREFIXES[0], other_team, "/insights/funnel/")
        assert (await client.post(path, json={"events": EVENTS}, headers=team.headers)).status_code == 403
        assert (await client.post(path, json={"events": EVENTS})).status_code == 401

    async def test_current_project(self, client: httpx.AsyncClient, seeded: Team) -> None:
        response = await client.post(
            "/api/projects/@current/insights/funnel/", json={"events": EVENTS}, headers=seeded.headers
        )
        assert steps(response.json()) == [5, 4, 2]


class TestBadInput:
    @pytest.mark.parametrize(
        ("filters", "attr", "detail"),
        [
            ({"events": [{"id": "view"}]}, "series", None),
            ({"events": [{"id": f"e{i}", "order": i} for i in range(21)]}, "series", None),
            ({"events": EVENTS, "funnel_window_interval": -1}, "funnelsFilter__funnelWindowInterval", None),
            ({"events": EVENTS, "properties": "[{"}, "properties", "Properties are unparsable!"),
            ({"events": "nope"}, "events", None),
            ({"events": EVENTS, "actions": [{"id": 98765, "order": 3}]}, "series__3__id", None),
            (
                {
                    "events": [
                        {"id": "a", "properties": [{"key": "u", "value": "(", "operator": "regex"}]},
                        {"id": "b"},
                    ]
                },
                "properties",
                None,
            ),
            ({"events": EVENTS, "refresh": "sometimes"}, "refresh", None),
            ({"events": EVENTS, "format": "csv"}, "format", None),
        ],
    )
    async def test_400(
        self, client: httpx.AsyncClient, team: Team, filters: dict[str, Any], attr: str, detail: str | None
    ) -> None:
        response = await client.post(
            url(PREFIXES[0], team, "/insights/funnel/"), json=filters, headers=team.headers
        )
        assert response.status_code == 400, response.text
        body = response.json()
        assert set(body) == {"type", "code", "detail", "attr"}
        assert body["type"] == "validation_error"
        assert body["attr"] == attr
        if detail:
            assert body["detail"] == detail

    async def test_correlation_bad_input(self, client: httpx.AsyncClient, team: Team) -> None:
        path = url(PREFIXES[1], team, "/insights/funnel/correlation/")
        missing = await client.post(
            path, json={"events": EVENTS, "funnel_correlation_type": "properties"}, headers=team.headers
        )
        assert missing.status_code == 400
        assert missing.json()["attr"] == "funnelCorrelationNames"
        wrong = await client.post(
            path, json={"events": EVENTS, "funnel_correlation_names": [1]}, headers=team.headers
        )
        assert wrong.status_code == 400
        not_an_object = await client.post(path, json=[1, 2], headers=team.headers)
        assert not_an_object.status_code == 400
