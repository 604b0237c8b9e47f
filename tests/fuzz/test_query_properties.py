"""Property tests for the query engine: random valid queries compile and run, and results obey laws.

The dataset is seeded once per test; every hypothesis example is a read-only query over it.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import APIError
from app.query.api import TeamContext, parse_query, prepare_query
from tests.factories.identity import Team
from tests.query import dataset
from tests.query.conftest import RunQuery
from tests.query.dataset import NOW

EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
OPERATORS = [
    "exact", "is_not", "icontains", "not_icontains", "regex", "not_regex", "gt", "gte", "lt", "lte",
    "is_set", "is_not_set", "is_date_exact", "is_date_before", "is_date_after", "between", "not_between",
    "in", "not_in",
]  # fmt: skip
KEYS = ["$browser", "amount", "$current_url", "missing", "it's; DROP TABLE events; --"]
VALUES = st.one_of(
    st.none(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.lists(st.one_of(st.text(max_size=6), st.integers(0, 100)), max_size=4),
    st.sampled_from(["Chrome", "2024-03-01", "1e2", "(", "[a-z]+", "%", "_", "\\"]),
)
TIMEZONES = st.sampled_from(["UTC", "America/Los_Angeles", "Asia/Kolkata"])


@st.composite
def property_filters(draw: st.DrawFn) -> list[dict[str, Any]]:
    filters = []
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["event", "person"]))
        key = (
            draw(st.sampled_from(KEYS))
            if kind == "event"
            else draw(st.sampled_from(["email", "plan", "age"]))
        )
        filters.append(
            {"type": kind, "key": key, "operator": draw(st.sampled_from(OPERATORS)), "value": draw(VALUES)}
        )
    return filters


@st.composite
def trends_queries(draw: st.DrawFn) -> dict[str, Any]:
    series = []
    for _ in range(draw(st.integers(1, 3))):
        math = draw(st.sampled_from(["total", "dau", "weekly_active", "unique_session", "sum", "avg", "p90"]))
        node: dict[str, Any] = {"kind": "EventsNode", "event": draw(st.sampled_from([*dataset.EVENTS, None]))}
        node["math"] = math
        if math in ("sum", "avg", "p90"):
            node["math_property"] = "amount"
        node["properties"] = draw(property_filters())
        series.append(node)
    query: dict[str, Any] = {
        "kind": "TrendsQuery",
        "series": series,
        "interval": draw(st.sampled_from(["hour", "day", "week", "month"])),
        "dateRange": {
            "date_from": draw(st.sampled_from(["-7d", "-14d", "-30d", "mStart", "-1mStart", "-2w"]))
        },
        "properties": draw(property_filters()),
    }
    if query["interval"] == "hour":
        query["dateRange"] = {"date_from": "-2d"}
    if draw(st.booleans()):
        query["breakdownFilter"] = {"breakdown": "$browser", "breakdown_type": "event", "breakdown_limit": 3}
    return query


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


@given(query=trends_queries(), tz=TIMEZONES)
@EXAMPLES
async def test_random_valid_queries_run_or_fail_cleanly(
    seeded: dataset.Dataset, team: Team, run_query: RunQuery, query: dict[str, Any], tz: str
) -> None:
    """Whatever the operators and values, a query runs or is refused with a 4xx, never a crash."""
    try:
        body = await run_query(query, TeamContext(id=team.id, timezone=tz), NOW)
    except APIError as exc:
        refused = exc
    else:
        refused = None
    if refused is not None:
        assert refused.status_code < 500
        return
    assert isinstance(body["results"], list)
    for item in body["results"]:
        assert len(item["data"]) == len(item["days"]) == len(item["labels"])
        assert item["count"] == pytest.approx(sum(v for v in item["data"] if v is not None))


def _cosmetic_variant(query: dict[str, Any]) -> dict[str, Any]:
    variant = copy.deepcopy(query)
    for i, series in enumerate(variant["series"]):
        series["custom_name"] = f"Renamed {i}"
        series["name"] = f"another name {i}"
    return dict(reversed(list(variant.items())))


@given(query=trends_queries())
@EXAMPLES
async def test_results_and_cache_key_ignore_cosmetic_changes(
    seeded: dataset.Dataset, team: Team, run_query: RunQuery, query: dict[str, Any]
) -> None:
    context = TeamContext(id=team.id)
    variant = _cosmetic_variant(query)
    try:
        original = await run_query(query, context, NOW)
    except APIError:
        return
    renamed = await run_query(variant, context, NOW)
    assert [item["data"] for item in renamed["results"]] == [item["data"] for item in original["results"]]
    same_key = prepare_query(parse_query(query), context, now=NOW).cache_key
    assert prepare_query(parse_query(variant), context, now=NOW).cache_key == same_key


@given(
    event=st.sampled_from(dataset.EVENTS), date_from=st.sampled_from(["-7d", "-30d", "mStart"]), tz=TIMEZONES
)
@EXAMPLES
async def test_breakdown_buckets_add_up_to_the_total(
    seeded: dataset.Dataset, team: Team, run_query: RunQuery, event: str, date_from: str, tz: str
) -> None:
    """Every event lands in exactly one breakdown bucket (values, other or null)."""
    base = {
        "kind": "TrendsQuery",
        "series": [{"kind": "EventsNode", "event": event}],
        "dateRange": {"date_from": date_from},
    }
    context = TeamContext(id=team.id, timezone=tz)
    total = await run_query(base, context, NOW)
    broken = await run_query(
        {
            **base,
            "breakdownFilter": {"breakdown": "$browser", "breakdown_type": "event", "breakdown_limit": 2},
        },
        context,
        NOW,
    )
    per_day = [sum(day) for day in zip(*(item["data"] for item in broken["results"]), strict=True)]
    assert per_day == total["results"][0]["data"]
