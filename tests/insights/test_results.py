"""Insight results through every refresh mode, dashboard filters, staleness and single flight.

Expected numbers come from the seeded rows themselves (a plain-Python count), never from the engine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.execution.modes import ExecutionMode
from app.models import DashboardTile, Insight
from app.models.base import utcnow
from app.services.insight_queries import RunContext, run
from tests.factories.events import EventRow, insert_events
from tests.factories.identity import Team
from tests.factories.insights import create_dashboard, create_insight, trends

BROWSERS = ["Chrome", "Chrome", "Safari", "Firefox", "Chrome", "Safari"]


def seeded_rows() -> list[EventRow]:
    now = utcnow()
    rows = [
        EventRow("$pageview", now - timedelta(days=i % 4, minutes=30), None, {"$browser": browser})
        for i, browser in enumerate(BROWSERS)
    ]
    rows += [EventRow("signup", now - timedelta(days=1, minutes=30), None, {"$browser": "Chrome"})]
    return rows


def oracle_count(rows: list[EventRow], event: str, browser: str | None = None) -> float:
    return float(
        sum(
            1
            for r in rows
            if r.event == event and (browser is None or r.properties.get("$browser") == browser)
        )
    )


@pytest.fixture
async def rows(engine: AsyncEngine, team: Team) -> list[EventRow]:
    data = seeded_rows()
    for row in data:
        row.distinct_id = "someone"
    await insert_events(engine, team.id, data)
    return data


def url_of(team: Team, insight: dict[str, Any], prefix: str = "/api/projects") -> str:
    return f"{prefix}/{team.id}/insights/{insight['id']}/"


class TestModes:
    async def test_default_never_computes(
        self, client: httpx.AsyncClient, team: Team, rows: list[EventRow]
    ) -> None:
        insight = await create_insight(client, team)
        body = (await client.get(url_of(team, insight), headers=team.headers)).json()
        assert (body["result"], body["is_cached"], body["last_refresh"], body["query_status"]) == (
            None, False, None, None,
        )  # fmt: skip
        assert body["filters_hash"]  # the cache key is known without computing

    @pytest.mark.parametrize("prefix", ["/api/projects", "/api/environments"])
    async def test_blocking_computes_then_default_serves_the_cache(
        self, client: httpx.AsyncClient, team: Team, rows: list[EventRow], prefix: str
    ) -> None:
        insight = await create_insight(client, team, prefix)
        url = url_of(team, insight, prefix)
        computed = (await client.get(url + "?refresh=blocking", headers=team.headers)).json()
        assert computed["is_cached"] is False
        assert computed["result"][0]["count"] == oracle_count(rows, "$pageview")
        assert len(computed["result"][0]["data"]) == 8  # -7d by day: 7 past days and today
        last_refresh = datetime.fromisoformat(computed["last_refresh"])
        # -7d spans 8 calendar days (whole days, today included): trends refresh after 15 minutes;
        # day interval: stale after 6 hours.
        assert datetime.fromisoformat(computed["next_allowed_client_refresh"]) == last_refresh + timedelta(
            minutes=15
        )
        assert datetime.fromisoformat(computed["cache_target_age"]) == last_refresh + timedelta(hours=6)
        assert computed["resolved_date_range"]["date_from"] < computed["resolved_date_range"]["date_to"]

        cached = (await client.get(url, headers=team.headers)).json()
        assert (cached["is_cached"], cached["last_refresh"], cached["result"]) == (
            True, computed["last_refresh"], computed["result"],
        )  # fmt: skip
        listed = (await client.get(f"{prefix}/{team.id}/insights/", headers=team.headers)).json()["results"][
            0
        ]
        assert (listed["is_cached"], listed["result"]) == (True, computed["result"])

    async def test_true_means_force_blocking(
        self, client: httpx.AsyncClient, team: Team, rows: list[EventRow]
    ) -> None:
        insight = await create_insight(client, team)
        first = (await client.get(url_of(team, insight) + "?refresh=blocking", headers=team.headers)).json()
        blocking_again = (
            await client.get(url_of(team, insight) + "?refresh=blocking", headers=team.headers)
        ).json()
        assert (blocking_again["is_cached"], blocking_again["last_refresh"]) == (True, first["last_refresh"])
        for value in ("true", "1", "yes", "force_blocking"):
            forced = (
                await client.get(url_of(team, insight) + f"?refresh={value}", headers=team.headers)
            ).json()
            assert forced["is_cached"] is False, value
            assert forced["last_refresh"] > first["last_refresh"]

    async def test_invalid_modes_are_400(self, client: httpx.AsyncClient, team: Team) -> None:
        insight = await create_insight(client, team)
        for value in ("async_except_on_cache_miss", "sometimes"):
            response = await client.get(url_of(team, insight) + f"?refresh={value}", headers=team.headers)
            assert (response.status_code, response.json()["attr"]) == (400, "refresh")

    async def test_list_with_blocking_computes_every_insight(
        self, client: httpx.AsyncClient, team: Team, rows: list[EventRow]
    ) -> None:
        await create_insight(client, team)
        await create_insight(client, team, query=trends("signup"))
        body = (
            await client.get(f"/api/projects/{team.id}/insights/?refresh=blocking", headers=team.headers)
        ).json()
        counts = [row["result"][0]["count"] for row in body["results"]]
        assert counts == [oracle_count(rows, "$pageview"), oracle_count(rows, "signup")]

    async def test_legacy_filters_compute(
        self, client: httpx.AsyncClient, team: Team, rows: list[EventRow]
    ) -> None:
        insight = await create_insight(client, team, query=None, filters={"events": [{"id": "signup"}]})
        body = (await client.get(url_of(team, insight) + "?refresh=blocking", headers=team.headers)).json()
        assert body["result"][0]["count"] == oracle_count(rows, "signup")

    async def test_query_errors_are_400_when_computing_and_empty_otherwise(
        self, client: httpx.AsyncClient, team: Team, rows: list[EventRow]
    ) -> None:
        regex = trends(properties=[{"key": "$browser", "value": "(", "operator": "regex", "type": "event"}])
        insight = await create_insight(client, team, query=regex)
        assert (await client.get(url_of(team, insight), headers=team.headers)).json()["result"] is None
        computed = await client.get(url_of(team, insight) + "?refresh=blocking", headers=team.headers)
        assert (computed.status_code, computed.json()["code"]) == (400, "invalid_regex")


class TestDashboardFilters:
    async def test_from_dashboard_applies_filters_without_changing_the_insight(
        self,
        client: httpx.AsyncClient,
        team: Team,
        rows: list[EventRow],
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        chrome = {
            "properties": [{"key": "$browser", "value": "Chrome", "operator": "exact", "type": "event"}]
        }
        board = await create_dashboard(sessionmaker, team, filters=chrome)
        insight = await create_insight(client, team, dashboards=[board.id])
        async with sessionmaker() as session:
            tile = (
                await session.execute(select(DashboardTile).where(DashboardTile.insight_id == insight["id"]))
            ).scalar_one()
            tile.color, tile.layouts = "blue", {"sm": {"x": 0, "y": 0, "w": 6, "h": 5}}
            await session.commit()
        plain = (await client.get(url_of(team, insight) + "?refresh=blocking", headers=team.headers)).json()
        boarded = (
            await client.get(
                url_of(team, insight) + f"?refresh=blocking&from_dashboard={board.id}", headers=team.headers
            )
        ).json()
        assert plain["result"][0]["count"] == oracle_count(rows, "$pageview")
        assert boarded["result"][0]["count"] == oracle_count(rows, "$pageview", "Chrome")
        assert boarded["filters_hash"] != plain["filters_hash"]
        assert (boarded["color"], boarded["layouts"]) == ("blue", {"sm": {"x": 0, "y": 0, "w": 6, "h": 5}})
        assert boarded["query"] == plain["query"] == trends()
        async with sessionmaker() as session:
            stored = await session.get(Insight, insight["id"])
            assert stored is not None
            assert stored.query == trends()

    async def test_filters_override_and_tile_overrides(
        self,
        client: httpx.AsyncClient,
        team: Team,
        rows: list[EventRow],
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        board = await create_dashboard(sessionmaker, team)
        insight = await create_insight(client, team, dashboards=[board.id])
        safari = '{"properties":[{"key":"$browser","value":"Safari","operator":"exact","type":"event"}]}'
        overridden = (
            await client.get(
                url_of(team, insight) + f"?refresh=blocking&filters_override={safari}", headers=team.headers
            )
        ).json()
        assert overridden["result"][0]["count"] == oracle_count(rows, "$pageview", "Safari")
        async with sessionmaker() as session:
            tile = (
                await session.execute(select(DashboardTile).where(DashboardTile.insight_id == insight["id"]))
            ).scalar_one()
            tile.filters_overrides = {
                "properties": [{"key": "$browser", "value": "Firefox", "operator": "exact", "type": "event"}]
            }
            await session.commit()
        by_tile = (
            await client.get(
                url_of(team, insight)
                + f"?refresh=blocking&from_dashboard={board.id}&filters_override={safari}",
                headers=team.headers,
            )
        ).json()
        assert by_tile["result"][0]["count"] == oracle_count(rows, "$pageview", "Firefox")

    async def test_bad_override_and_unknown_dashboard(
        self,
        client: httpx.AsyncClient,
        team: Team,
        other_team: Team,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        insight = await create_insight(client, team)
        bad = await client.get(url_of(team, insight) + "?filters_override=[1", headers=team.headers)
        assert (bad.status_code, bad.json()["attr"]) == (400, "filters_override")
        theirs = await create_dashboard(sessionmaker, other_team)
        foreign = await client.get(
            url_of(team, insight) + f"?from_dashboard={theirs.id}", headers=team.headers
        )
        assert foreign.status_code == 404


THRESHOLDS = {
    "minute": (timedelta(minutes=5), {"date_from": "-1h"}),
    "hour": (timedelta(hours=1), {"date_from": "-24h"}),
    "day": (timedelta(hours=6), None),
    "week": (timedelta(days=1), {"date_from": "-30d"}),
    "month": (timedelta(days=1), {"date_from": "-90d"}),
}


class TestStaleness:
    @pytest.mark.parametrize("interval", list(THRESHOLDS))
    async def test_stale_after_the_interval_threshold(
        self,
        app: Any,
        team: Team,
        sessionmaker: async_sessionmaker[AsyncSession],
        rows: list[EventRow],
        interval: str,
    ) -> None:
        threshold, date_range = THRESHOLDS[interval]
        source: dict[str, Any] = {"interval": interval}
        if date_range:
            source["dateRange"] = date_range
        insight = Insight(team_id=team.id, short_id=f"stale{interval[:3]}", query=trends(**source))
        execution = app.state.execution
        first = await run(execution, team.project, insight, RunContext(ExecutionMode.BLOCKING))
        assert first["is_cached"] is False
        computed_at = (
            datetime.fromisoformat(str(first["last_refresh"]))
            if isinstance(first["last_refresh"], str)
            else first["last_refresh"]
        )
        fresh = await run(
            execution,
            team.project,
            insight,
            RunContext(ExecutionMode.BLOCKING, now=computed_at + threshold - timedelta(seconds=30)),
        )
        assert (fresh["is_cached"], fresh["last_refresh"]) == (True, first["last_refresh"])
        stale = await run(
            execution,
            team.project,
            insight,
            RunContext(ExecutionMode.BLOCKING, now=computed_at + threshold + timedelta(seconds=30)),
        )
        assert stale["is_cached"] is False
        assert stale["last_refresh"] > first["last_refresh"]

    async def test_lazy_async_uses_the_longer_threshold(
        self, app: Any, team: Team, rows: list[EventRow]
    ) -> None:
        insight = Insight(team_id=team.id, short_id="lazyone1", query=trends())
        execution = app.state.execution
        first = await run(execution, team.project, insight, RunContext(ExecutionMode.BLOCKING))
        seven_hours = first["last_refresh"] + timedelta(
            hours=7
        )  # stale by default (6 h), fresh when lazy (12 h)
        lazy = await run(
            execution, team.project, insight, RunContext(ExecutionMode.LAZY_ASYNC, now=seven_hours)
        )
        assert (lazy["is_cached"], lazy["query_status"]) == (True, None)

    async def test_fully_historical_range_is_never_stale(
        self, app: Any, team: Team, rows: list[EventRow]
    ) -> None:
        insight = Insight(
            team_id=team.id,
            short_id="history1",
            query=trends(dateRange={"date_from": "2020-01-01", "date_to": "2020-01-31"}),
        )
        execution = app.state.execution
        first = await run(execution, team.project, insight, RunContext(ExecutionMode.BLOCKING))
        assert first["cache_target_age"] is None
        years_later = first["last_refresh"] + timedelta(days=900)
        later = await run(
            execution, team.project, insight, RunContext(ExecutionMode.BLOCKING, now=years_later)
        )
        assert (later["is_cached"], later["last_refresh"]) == (True, first["last_refresh"])


@pytest.fixture
async def events_locked(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        await connection.execute(text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))
        yield connection
        await connection.rollback()


async def waiting_on_events(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        sql = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%events%'"
        return int((await connection.execute(text(sql))).scalar_one())


async def test_single_flight_two_concurrent_blocking_reads_compute_once(
    client: httpx.AsyncClient, team: Team, engine: AsyncEngine, rows: list[EventRow]
) -> None:
    insight = await create_insight(client, team)
    async with engine.connect() as lock:
        await lock.execute(text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))
        requests = [
            asyncio.create_task(client.get(url_of(team, insight) + "?refresh=blocking", headers=team.headers))
            for _ in range(2)
        ]
        deadline = time.monotonic() + 10
        while await waiting_on_events(engine) == 0:
            assert time.monotonic() < deadline, "the computation never reached Postgres"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # the second request has had every chance to start its own statement
        assert await waiting_on_events(engine) == 1
        await lock.rollback()
    first, second = [(await r).json() for r in requests]
    assert first["last_refresh"] == second["last_refresh"]
    assert first["result"] == second["result"]
    assert first["result"][0]["count"] == oracle_count(rows, "$pageview")
