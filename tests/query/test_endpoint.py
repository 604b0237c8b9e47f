"""`POST /api/projects/:id/query/` in blocking mode: the response envelope, every kind of this engine,
error bodies for bad queries, scopes, and a statement timeout that answers instead of hanging."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.main import create_app
from app.models.base import utcnow
from app.query.execute import QueryTimeout
from app.settings import Settings
from tests.factories.events import EventRow, insert_events, insert_persons, new_person
from tests.factories.identity import Team, create_key

PREFIXES = ["/api/projects", "/api/environments"]
TRENDS = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "signup"}]}


@pytest.fixture
async def signups(engine: AsyncEngine, team: Team) -> list[int]:
    """Signups 0..7 days ago: day k has k + 1 events (today has one)."""
    person = new_person()
    await insert_persons(engine, team.id, [person])
    now = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    rows = [
        EventRow("signup", now - timedelta(days=k, minutes=i), person.uuid)
        for k in range(8)
        for i in range(k + 1)
    ]
    await insert_events(engine, team.id, [r for r in rows if r.timestamp <= utcnow()])
    return [k + 1 for k in reversed(range(8))]


async def post(
    client: httpx.AsyncClient, team: Team, body: Any, prefix: str = "/api/projects"
) -> httpx.Response:
    return await client.post(f"{prefix}/{team.id}/query/", headers=team.headers, json=body)


class TestEnvelope:
    @pytest.mark.parametrize("prefix", PREFIXES)
    async def test_blocking_trends_response(
        self, client: httpx.AsyncClient, team: Team, signups: list[int], prefix: str
    ) -> None:
        if utcnow().hour < 12:
            signups[-1] = 0  # today's event is at noon
        first = await post(client, team, {"query": TRENDS}, prefix)
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["results"][0]["data"] == [float(n) for n in signups]
        assert body["hasMore"] is False
        assert body["is_cached"] is False
        assert body["timezone"] == "UTC"
        assert body["query_status"] is None
        assert body["cache_key"].startswith("query_TrendsQuery_")
        assert body["last_refresh"].endswith("Z")
        assert body["next_allowed_client_refresh"].endswith("Z")
        assert datetime.fromisoformat(body["last_refresh"].replace("Z", "+00:00")) <= utcnow()
        resolved = body["resolved_date_range"]
        today = utcnow().date()
        assert resolved["date_from"] == f"{today - timedelta(days=7)}T00:00:00+00:00"
        assert resolved["date_to"] == f"{today}T23:59:59.999999+00:00"
        assert body["timings"][0]["k"] == "./query"
        assert body["timings"][0]["t"] >= 0
        again = (
            await post(client, team, {"query": {"kind": "InsightVizNode", "source": TRENDS}}, prefix)
        ).json()
        assert again["is_cached"] is True
        assert again["results"] == body["results"]
        assert again["last_refresh"] == body["last_refresh"]

    async def test_timezone_of_the_project(
        self,
        client: httpx.AsyncClient,
        team: Team,
        signups: list[int],
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await client.patch(
            f"/api/projects/{team.id}/", headers=team.headers, json={"timezone": "Asia/Kolkata"}
        )
        body = (await post(client, team, {"query": TRENDS})).json()
        assert body["timezone"] == "Asia/Kolkata"
        assert body["resolved_date_range"]["date_to"].endswith("23:59:59.999999+05:30")

    @pytest.mark.parametrize(
        ("query", "statuses"),
        [
            ({"kind": "StickinessQuery", "series": [{"kind": "EventsNode", "event": "signup"}]}, None),
            (
                {"kind": "LifecycleQuery", "series": [{"kind": "EventsNode", "event": "signup"}]},
                ["new", "returning", "resurrecting", "dormant"],
            ),
        ],
    )
    async def test_stickiness_and_lifecycle(
        self,
        client: httpx.AsyncClient,
        team: Team,
        signups: list[int],
        query: dict[str, Any],
        statuses: list[str] | None,
    ) -> None:
        response = await post(client, team, {"query": query})
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        if statuses is None:  # one person, active on every day of the range (today only after noon)
            days_active = 8 if utcnow().hour >= 12 else 7
            assert results[0]["data"][days_active - 1] == 1.0
            assert sum(results[0]["data"]) == 1.0
        else:
            assert [r["status"] for r in results] == statuses


class TestBadQueries:
    @pytest.mark.parametrize(
        ("body", "attr", "code"),
        [
            ({"query": {"kind": "HogQLQuery", "query": "select 1"}}, "kind", "invalid_choice"),
            ({"query": {"series": []}}, "kind", "invalid_choice"),
            ({"query": {**TRENDS, "frobnicate": 1}}, "frobnicate", "invalid_input"),
            ({"query": {**TRENDS, "interval": "fortnight"}}, "interval", "invalid_input"),
            (
                {"query": {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "math": "nope"}]}},
                "series__0__math",
                "invalid_input",
            ),
            ({"query": {"kind": "TrendsQuery"}}, "series", "required"),
            ({"query": {"kind": "InsightVizNode"}}, "source", "required"),
            (
                {"query": {**TRENDS, "dateRange": {"date_from": "last tuesday"}}},
                "dateRange__date_from",
                "invalid_input",
            ),
            ({"query": "TrendsQuery"}, "query", "invalid_input"),
            ({}, "query", "required"),
            ({"query": TRENDS, "refresh": "sometimes"}, "refresh", "invalid_choice"),
        ],
    )
    async def test_400_names_the_field(
        self, client: httpx.AsyncClient, team: Team, body: dict[str, Any], attr: str, code: str
    ) -> None:
        response = await post(client, team, body)
        assert response.status_code == 400, response.text
        error = response.json()
        assert set(error) == {"type", "code", "detail", "attr"}
        assert (error["type"], error["attr"], error["code"]) == ("validation_error", attr, code)

    async def test_invalid_regex(self, client: httpx.AsyncClient, team: Team) -> None:
        query = {
            **TRENDS,
            "properties": [{"key": "$browser", "value": "([", "operator": "regex", "type": "event"}],
        }
        response = await post(client, team, {"query": query})
        assert (response.status_code, response.json()["code"]) == (400, "invalid_regex")

    @pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
    async def test_non_finite_json_numbers(self, client: httpx.AsyncClient, team: Team, literal: str) -> None:
        series = f'[{{"kind": "EventsNode", "math_multiplier": {literal}}}]'
        raw = f'{{"query": {{"kind": "TrendsQuery", "series": {series}}}}}'
        response = await client.post(
            f"/api/projects/{team.id}/query/",
            headers={**team.headers, "Content-Type": "application/json"},
            content=raw,
        )
        assert response.status_code == 400, response.text

    async def test_deeply_nested_json_body(self, client: httpx.AsyncClient, team: Team) -> None:
        raw = '{"query": ' + "[" * 100_000 + "]" * 100_000 + "}"
        response = await client.post(
            f"/api/projects/{team.id}/query/",
            headers={**team.headers, "Content-Type": "application/json"},
            content=raw,
        )
        assert response.status_code == 400, response.text

    async def test_needs_query_read(
        self, client: httpx.AsyncClient, team: Team, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async with sessionmaker() as session:
            _, raw = await create_key(session, team.user, scopes=["insight:read"])
            await session.commit()
        response = await client.post(
            f"/api/projects/{team.id}/query/",
            headers={"Authorization": f"Bearer {raw}"},
            json={"query": TRENDS},
        )
        assert response.status_code == 403
        assert response.json()["detail"] == "API key missing required scope 'query:read'"


@pytest.fixture
async def impatient_client(test_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose statements time out after 300 ms."""
    app: FastAPI = create_app(test_settings.model_copy(update={"statement_timeout_ms": 300}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


class TestTimeout:
    async def test_a_slow_query_is_stopped_with_a_clear_error(
        self, impatient_client: httpx.AsyncClient, team: Team, engine: AsyncEngine
    ) -> None:
        async with engine.connect() as blocker:
            await blocker.execute(text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))  # every read waits
            started = time.monotonic()
            response = await post(impatient_client, team, {"query": TRENDS, "refresh": "force_blocking"})
            elapsed = time.monotonic() - started
            await blocker.rollback()
        assert response.status_code == 504, response.text
        assert response.json() == {
            "type": "server_error",
            "code": "query_timeout",
            "detail": QueryTimeout.default_detail,
            "attr": None,
        }
        assert elapsed < 5
