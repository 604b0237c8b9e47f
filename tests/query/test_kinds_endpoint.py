"""Funnels, retention, paths and correlation through `POST /query/`, and their worker round trip."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.query.api import TeamContext, parse_query, prepare_from_job, prepare_query
from tests.factories.events import EventRow, insert_events
from tests.factories.identity import Team

FUNNEL: dict[str, Any] = {
    "kind": "FunnelsQuery",
    "series": [{"kind": "EventsNode", "event": "view"}, {"kind": "EventsNode", "event": "buy"}],
}
QUERIES: dict[str, dict[str, Any]] = {
    "funnel": FUNNEL,
    "retention": {
        "kind": "RetentionQuery",
        "retentionFilter": {"targetEntity": {"id": "view", "type": "events"}},
    },
    "paths": {"kind": "PathsQuery", "pathsFilter": {"includeEventTypes": ["custom_event"]}},
    "correlation": {
        "kind": "FunnelCorrelationQuery",
        "source": {"kind": "FunnelsActorsQuery", "source": FUNNEL},
        "funnelCorrelationType": "events",
    },
}


@pytest.fixture
def seeded_at() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)


@pytest.fixture
async def seeded(engine: AsyncEngine, team: Team, seeded_at: datetime) -> Team:
    now = seeded_at
    events = []
    for i in range(4):
        person = uuid.uuid4()
        events += [EventRow("view", now, person), EventRow("scroll", now + timedelta(seconds=5), person)]
        if i % 2:
            events.append(EventRow("buy", now + timedelta(seconds=10), person))
    await insert_events(engine, team.id, events)
    return team


@pytest.mark.parametrize("name", list(QUERIES))
async def test_query_endpoint_runs_every_kind(
    client: httpx.AsyncClient, seeded: Team, seeded_at: datetime, name: str
) -> None:
    response = await client.post(
        f"/api/projects/{seeded.id}/query/",
        json={
            "query": {"kind": "InsightVizNode", "source": QUERIES[name]}
            if name != "correlation"
            else QUERIES[name]
        },
        headers=seeded.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["is_cached"] is False
    results = body["results"]
    if name == "funnel":
        assert [step["count"] for step in results] == [4, 2]
    elif name == "retention":
        # Seeded an hour ago: yesterday's cohort when the test runs between 00:00 and 01:00 UTC.
        cohort = next(row for row in results if row["date"][:10] == seeded_at.date().isoformat())
        assert cohort["values"][0] == {"count": 4, "label": "Day 0"}
        assert all(value["count"] == 0 for value in cohort["values"][1:])
        assert sum(value["count"] for row in results for value in row["values"]) == 4
    elif name == "paths":
        assert results == [
            {
                "source": "1_view",
                "target": "2_scroll",
                "value": 4,
                "average_conversion_time": pytest.approx(5000),
            },
            {
                "source": "2_scroll",
                "target": "3_buy",
                "value": 2,
                "average_conversion_time": pytest.approx(5000),
            },
        ]
    else:
        # Everyone scrolled: an odds ratio of exactly 1, which PostHog files under failure.
        [scroll] = results["events"]
        assert scroll["event"]["event"] == "scroll"
        assert (scroll["success_count"], scroll["failure_count"]) == (2, 2)
        assert (scroll["odds_ratio"], scroll["correlation_type"]) == (1.0, "failure")
        assert results["skewed"] is False


@pytest.mark.parametrize("name", list(QUERIES))
async def test_worker_job_prepares_the_same_query(seeded: Team, name: str) -> None:
    team = TeamContext(id=seeded.id, timezone="Europe/Paris")
    now = datetime(2024, 3, 14, tzinfo=UTC)
    prepared = prepare_query(parse_query(QUERIES[name]), team, now=now)
    again = prepare_from_job(prepared.job, now)
    assert again.cache_key == prepared.cache_key
    assert again.kind == prepared.kind


async def test_cosmetic_names_do_not_change_the_cache_key(seeded: Team) -> None:
    team = TeamContext(id=seeded.id)
    now = datetime(2024, 3, 14, tzinfo=UTC)
    renamed = {**FUNNEL, "series": [{**FUNNEL["series"][0], "custom_name": "Viewed"}, FUNNEL["series"][1]]}
    narrower = {**FUNNEL, "funnelsFilter": {"funnelWindowInterval": 1}}
    key = prepare_query(parse_query(FUNNEL), team, now=now).cache_key
    assert prepare_query(parse_query(renamed), team, now=now).cache_key == key
    assert prepare_query(parse_query(narrower), team, now=now).cache_key != key


async def test_funnels_sort_in_memory_for_their_transaction_only(engine: AsyncEngine, seeded: Team) -> None:
    prepared = prepare_query(parse_query(FUNNEL), TeamContext(id=seeded.id), now=datetime.now(UTC))
    async with engine.connect() as connection:
        default = (await connection.execute(text("SHOW work_mem"))).scalar_one()
        await connection.commit()
        await prepared.run(connection)
        assert (await connection.execute(text("SHOW work_mem"))).scalar_one() == "64MB"
        await connection.rollback()
        assert (await connection.execute(text("SHOW work_mem"))).scalar_one() == default
