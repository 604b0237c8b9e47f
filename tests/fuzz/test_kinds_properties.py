"""Property tests for funnels, retention and paths: random valid queries (hostile strings included)
run or fail with a 4xx, and their results obey the laws of each kind."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import APIError
from app.query.api import TeamContext, parse_query, prepare_query
from tests.factories.identity import Team
from tests.fuzz.test_query_properties import TIMEZONES, property_filters
from tests.query import dataset
from tests.query.conftest import RunQuery
from tests.query.dataset import NOW

EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HOSTILE = ["it's; DROP TABLE events; --", "\\", "%", "_", "(", "*", "$$", "' OR 1=1 --"]
EVENT_NAMES = st.sampled_from([*dataset.EVENTS, *dataset.EVENTS, *HOSTILE])


@pytest.fixture
def run_query(engine: AsyncEngine) -> RunQuery:
    async def run(payload: dict[str, Any], team: TeamContext, now: datetime) -> dict[str, Any]:
        prepared = prepare_query(parse_query(payload), team, now=now)
        async with engine.connect() as connection:
            return await prepared.run(connection)

    return run


@pytest.fixture
async def seeded(engine: AsyncEngine, team: Team) -> dataset.Dataset:
    built = dataset.build()
    await dataset.seed(engine, team.id, built)
    return built


async def _run_or_refuse(
    run_query: RunQuery, query: dict[str, Any], team: TeamContext
) -> dict[str, Any] | None:
    try:
        return await run_query(query, team, NOW)
    except APIError as exc:
        refused = exc
    assert refused.status_code < 500
    return None


@st.composite
def funnels(draw: st.DrawFn) -> dict[str, Any]:
    steps = draw(st.integers(2, 4))
    series = [
        {"kind": "EventsNode", "event": draw(EVENT_NAMES), "properties": draw(property_filters())}
        for _ in range(steps)
    ]
    funnels_filter: dict[str, Any] = {
        "funnelOrderType": draw(st.sampled_from(["ordered", "strict", "unordered"])),
        "funnelWindowInterval": draw(st.integers(1, 30)),
        "funnelWindowIntervalUnit": draw(st.sampled_from(["minute", "hour", "day", "week"])),
        "funnelVizType": draw(st.sampled_from(["steps", "steps", "time_to_convert", "trends"])),
        "breakdownAttributionType": draw(
            st.sampled_from(["first_touch", "last_touch", "all_events", "step"])
        ),
    }
    if draw(st.booleans()):
        start = draw(st.integers(0, steps - 2))
        end = (
            steps - 1
            if funnels_filter["funnelOrderType"] == "unordered"
            else draw(st.integers(start + 1, steps - 1))
        )
        start = 0 if funnels_filter["funnelOrderType"] == "unordered" else start
        funnels_filter["exclusions"] = [
            {"kind": "EventsNode", "event": draw(EVENT_NAMES), "funnelFromStep": start, "funnelToStep": end}
        ]
    query: dict[str, Any] = {
        "kind": "FunnelsQuery",
        "series": series,
        "dateRange": {"date_from": draw(st.sampled_from(["-7d", "-30d", "mStart"]))},
        "properties": draw(property_filters()),
        "funnelsFilter": funnels_filter,
    }
    if draw(st.booleans()):
        query["breakdownFilter"] = {
            "breakdown": draw(st.sampled_from(["$browser", *HOSTILE])),
            "breakdown_limit": 3,
        }
    return query


@given(query=funnels(), tz=TIMEZONES)
@EXAMPLES
async def test_funnels_run_and_never_grow_along_the_steps(
    seeded: dataset.Dataset, team: Team, run_query: RunQuery, query: dict[str, Any], tz: str
) -> None:
    body = await _run_or_refuse(run_query, query, TeamContext(id=team.id, timezone=tz))
    if body is None or query["funnelsFilter"]["funnelVizType"] != "steps":
        return
    groups = body["results"] if "breakdownFilter" in query else [body["results"]]
    for steps in groups:
        counts = [step["count"] for step in steps]
        assert counts == sorted(counts, reverse=True)
        for step in steps[1:]:
            if step["count"]:
                assert step["average_conversion_time"] >= 0


@given(
    period=st.sampled_from(["Hour", "Day", "Week", "Month"]),
    total=st.integers(1, 12),
    kind=st.sampled_from(["retention_recurring", "retention_first_time", "retention_first_ever_occurrence"]),
    target=EVENT_NAMES,
    cumulative=st.booleans(),
    tz=TIMEZONES,
)
@EXAMPLES
async def test_retention_rows_are_triangular_and_bounded_by_the_cohort(
    seeded: dataset.Dataset,
    team: Team,
    run_query: RunQuery,
    period: str,
    total: int,
    kind: str,
    target: str,
    cumulative: bool,
    tz: str,
) -> None:
    query = {
        "kind": "RetentionQuery",
        "retentionFilter": {
            "period": period,
            "totalIntervals": total,
            "retentionType": kind,
            "cumulative": cumulative,
            "targetEntity": {"id": target, "type": "events"},
        },
    }
    body = await _run_or_refuse(run_query, query, TeamContext(id=team.id, timezone=tz))
    assert body is not None
    rows = body["results"]
    assert [len(row["values"]) for row in rows] == list(range(total, 0, -1))
    for row in rows:
        counts = [v["count"] for v in row["values"]]
        assert all(0 <= c <= counts[0] for c in counts)
        if cumulative:
            assert counts == sorted(counts, reverse=True)


@given(
    start=st.one_of(st.none(), st.sampled_from(["https://a.com/x", "https://a.com/y?q=1", *HOSTILE])),
    step_limit=st.integers(2, 6),
    groupings=st.lists(st.sampled_from(["https://a.com/*", "*y*", *HOSTILE]), max_size=2),
    cleaning=st.lists(st.sampled_from([("\\?.*", ""), ("a\\.com", "site"), ("(", "x")]), max_size=2),
)
@EXAMPLES
async def test_paths_run_and_start_at_the_first_step(
    seeded: dataset.Dataset,
    team: Team,
    run_query: RunQuery,
    start: str | None,
    step_limit: int,
    groupings: list[str],
    cleaning: list[tuple[str, str]],
) -> None:
    query = {
        "kind": "PathsQuery",
        "dateRange": {"date_from": "-30d"},
        "pathsFilter": {
            "startPoint": start,
            "stepLimit": step_limit,
            "pathGroupings": groupings,
            "localPathCleaningFilters": [{"regex": regex, "alias": alias} for regex, alias in cleaning],
        },
    }
    body = await _run_or_refuse(run_query, query, TeamContext(id=team.id))
    if body is None:
        assert any(regex == "(" for regex, _ in cleaning)  # only a bad regex may refuse
        return
    for edge in body["results"]:
        source_step, target_step = int(edge["source"].split("_")[0]), int(edge["target"].split("_")[0])
        assert target_step == source_step + 1 <= step_limit
        assert edge["value"] > 0
