"""The compiler's SQL, compared with checked-in snapshots (no database needed).

Each case compiles a representative query with the Postgres dialect and compares the SQL text and its
bind parameters with `tests/query/snapshots/<case>.sql`. A change in the compiled SQL fails here first,
so it gets reviewed as a diff. To accept intended changes:

    UPDATE_SNAPSHOTS=1 uv run pytest tests/query/test_sql_snapshots.py

and commit the rewritten files. A second test puts a marker string in every user-controlled field of a
query and checks it reaches the statements only as a bind parameter, never in the SQL text.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select, select
from sqlalchemy.dialects import postgresql

from app.query import dates, normalize
from app.query.actions import action_condition, action_from_json
from app.query.breakdowns import Bins, BreakdownPlan
from app.query.dates import ResolvedRange
from app.query.ir import QueryIR
from app.query.kinds import lifecycle, stickiness, trends_sql
from app.query.parse import parse_query
from app.query.source import CompileContext

SNAPSHOTS = Path(__file__).parent / "snapshots"
NOW = datetime(2024, 3, 14, 15, 30, tzinfo=UTC)
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
TEST_ACCOUNTS = [{"key": "email", "value": "@internal.com", "operator": "not_icontains", "type": "person"}]
PURCHASE_ACTION = [
    {"event": "purchase", "properties": [{"key": "amount", "value": 10, "operator": "gt", "type": "event"}]},
    {"event": "$autocapture", "selector": "form > button.buy", "text": "Buy", "text_matching": "exact"},
    {"event": "$pageview", "url": "/checkout", "url_matching": "contains"},
]


@pytest.fixture(autouse=True)
def _clean_state() -> None:
    """Overrides the suite's per-test table cleanup: these tests never touch a database."""


def plan(
    payload: dict[str, Any], *, timezone: str = "UTC", actions: dict[int, list[dict[str, Any]]] | None = None
) -> tuple[QueryIR, CompileContext, ResolvedRange]:
    """What `app.query.api` hands a runner, built without a database."""
    ir = normalize.normalize(parse_query(payload))
    rng = dates.resolve(ir.date_range, interval=ir.interval, now=NOW, timezone=timezone, week_start_day=0)
    rng = replace(rng, interval_count=ir.interval_count or 1)
    ctx = CompileContext(
        team_id=1,
        timezone=timezone,
        week_start_day=0,
        test_accounts=normalize.properties_from_json(TEST_ACCOUNTS, "test"),
        actions={i: action_from_json(i, f"Action {i}", steps) for i, steps in (actions or {}).items()},
    )
    return ir, ctx, rng


def trends(series: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "TrendsQuery",
        "series": [series or {"kind": "EventsNode", "event": "$pageview"}],
        **extra,
    }


def series_sql(payload: dict[str, Any], breakdown: BreakdownPlan | None = None, **kw: Any) -> Select[Any]:
    ir, ctx, rng = plan(payload, **kw)
    return trends_sql.series_statement(ir, ir.series[0], ctx, rng, breakdown)


BROWSER_TOP = BreakdownPlan(top=(("Chrome",), ("Firefox",)), has_more=True, bins=(None,))
CASES: dict[str, Callable[[], Any]] = {
    "trends_count_by_day": lambda: series_sql(trends()),
    "trends_dau_30d_kolkata": lambda: series_sql(
        trends({"kind": "EventsNode", "event": "$pageview", "math": "dau"}, dateRange={"date_from": "-30d"}),
        timezone="Asia/Kolkata",
    ),
    "trends_weekly_active": lambda: series_sql(
        trends({"kind": "EventsNode", "event": "$pageview", "math": "weekly_active"})
    ),
    "trends_p90_with_event_filter": lambda: series_sql(
        trends(
            {"kind": "EventsNode", "event": "purchase", "math": "p90", "math_property": "amount"},
            properties=[
                {"key": "$browser", "value": ["Chrome", "Safari"], "operator": "exact", "type": "event"}
            ],
        )
    ),
    "trends_count_per_actor_weekly_sunday": lambda: series_sql(
        trends({"kind": "EventsNode", "event": "$pageview", "math": "avg_count_per_actor"}, interval="week")
    ),
    "trends_first_time_for_user": lambda: series_sql(
        trends(
            {
                "kind": "EventsNode",
                "event": "signup",
                "math": "first_time_for_user",
                "properties": [{"key": "$browser", "value": "Chrome", "type": "event"}],
            }
        )
    ),
    "trends_breakdown_top_values": lambda: trends_sql.top_values_statement(
        *_first_series(plan(trends(breakdownFilter={"breakdown": "$browser", "breakdown_limit": 2})))
    ),
    "trends_breakdown_series": lambda: series_sql(
        trends(breakdownFilter={"breakdown": "$browser", "breakdown_limit": 2}), BROWSER_TOP
    ),
    "trends_breakdown_one_pass": lambda: trends_sql.one_pass_breakdown_statement(
        *_first_series(plan(trends(breakdownFilter={"breakdown": "$browser", "breakdown_limit": 2})))
    ),
    "trends_histogram_series": lambda: series_sql(
        trends(breakdownFilter={"breakdown": "amount", "breakdown_histogram_bin_count": 4}),
        BreakdownPlan(top=None, has_more=False, bins=(Bins(0.0, 100.0, 4),)),
    ),
    "trends_nested_groups_and_test_accounts": lambda: series_sql(
        trends(
            filterTestAccounts=True,
            properties={
                "type": "OR",
                "values": [
                    {"type": "AND", "values": [{"key": "plan", "value": "pro", "type": "person"}]},
                    {
                        "type": "AND",
                        "values": [
                            {
                                "key": "$current_url",
                                "value": "pricing",
                                "operator": "icontains",
                                "type": "event",
                            },
                            {"key": "amount", "value": [1, 5], "operator": "between", "type": "event"},
                        ],
                    },
                ],
            },
        )
    ),
    "trends_element_filters": lambda: series_sql(
        trends(
            properties=[
                {"key": "text", "value": "Sign up", "operator": "exact", "type": "element"},
                {"key": "selector", "value": "div > a.nav", "operator": "exact", "type": "element"},
            ]
        )
    ),
    "trends_action_series_bold_number": lambda: series_sql(
        trends({"kind": "ActionsNode", "id": 7}, trendsFilter={"display": "BoldNumber"}),
        actions={7: PURCHASE_ACTION},
    ),
    "stickiness_days": lambda: stickiness.statement(
        *_first_series(
            plan({"kind": "StickinessQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}]})
        )
    ),
    "stickiness_interval_count_and_criteria": lambda: stickiness.statement(
        *_first_series(
            plan(
                {
                    "kind": "StickinessQuery",
                    "series": [{"kind": "EventsNode", "event": "$pageview"}],
                    "interval": "week",
                    "intervalCount": 2,
                    "dateRange": {"date_from": "-60d"},
                    "stickinessFilter": {"stickinessCriteria": {"operator": "gte", "value": 3}},
                },
                timezone="America/Los_Angeles",
            )
        )
    ),
    "lifecycle_days": lambda: lifecycle.statement(
        *_first_series(
            plan({"kind": "LifecycleQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}]})
        )
    ),
}


def _first_series(planned: tuple[QueryIR, CompileContext, ResolvedRange]) -> tuple[Any, ...]:
    ir, ctx, rng = planned
    return ir, ir.series[0], ctx, rng


def render(statement: Any) -> str:
    compiled = statement.compile(dialect=postgresql.dialect())
    params = "\n".join(f"-- {name} = {value!r}" for name, value in sorted(compiled.params.items()))
    return f"{compiled}\n\n-- parameters\n{params}\n"


@pytest.mark.parametrize("case", sorted(CASES))
def test_compiled_sql_matches_snapshot(case: str) -> None:
    path = SNAPSHOTS / f"{case}.sql"
    rendered = render(CASES[case]())
    if UPDATE or not path.exists():
        path.write_text(rendered)
        if not UPDATE:
            pytest.fail(f"wrote the missing snapshot {path.name}; review and commit it")
    assert rendered == path.read_text(), f"SQL changed; review, then UPDATE_SNAPSHOTS=1 (see {__name__})"


def test_no_stale_snapshots() -> None:
    assert {p.stem for p in SNAPSHOTS.glob("*.sql")} == set(CASES)


MARK = "zq1'mark\"; DROP TABLE events; --"


def _marked_payloads() -> Iterator[tuple[dict[str, Any], dict[int, list[dict[str, Any]]]]]:
    """Queries with the marker in every user-controlled string (names, keys, values, regexes...)."""
    marked_filters = [
        {"key": MARK, "value": MARK, "operator": operator, "type": kind}
        for kind in ("event", "person")
        for operator in ("exact", "is_not", "icontains", "not_icontains", "regex", "not_regex")
    ]
    marked_filters += [
        {"key": MARK, "value": [MARK, "x"], "operator": "in", "type": "event"},
        {"key": MARK, "value": 5, "operator": "gt", "type": "event"},
        {"key": MARK, "operator": "is_set", "type": "person"},
        {"key": MARK, "value": "2024-01-01", "operator": "is_date_before", "type": "event"},
        {"key": "text", "value": MARK, "operator": "exact", "type": "element"},
        {"key": "href", "value": MARK, "operator": "icontains", "type": "element"},
        {"key": "href", "value": MARK, "operator": "regex", "type": "element"},
        {"key": "tag_name", "value": MARK, "operator": "exact", "type": "element"},
        {"key": "selector", "value": "div.zq1mark > a", "operator": "exact", "type": "element"},
    ]
    event = {"kind": "EventsNode", "event": MARK, "custom_name": MARK, "properties": marked_filters}
    property_math = {**event, "math": "sum", "math_property": MARK}
    action = {"kind": "ActionsNode", "id": 3, "math": "first_time_for_user", "properties": marked_filters[:2]}
    steps = [
        {"event": MARK, "url": MARK, "url_matching": matching, "text": MARK, "text_matching": matching}
        for matching in ("contains", "exact", "regex")
    ] + [{"href": MARK, "href_matching": "contains", "tag_name": MARK, "properties": marked_filters[:3]}]
    for series in (event, property_math, action):
        yield (
            trends(
                series,
                properties=marked_filters,
                breakdownFilter={"breakdowns": [{"property": MARK}, {"property": MARK, "type": "person"}]},
            ),
            {3: steps},
        )
        for kind in ("StickinessQuery", "LifecycleQuery"):
            yield {"kind": kind, "series": [series], "properties": marked_filters}, {3: steps}


def _statements(payload: dict[str, Any], actions: dict[int, list[dict[str, Any]]]) -> Iterator[Any]:
    ir, ctx, rng = plan(payload, actions=actions)
    series = ir.series[0]
    if ir.kind == "TrendsQuery":
        yield trends_sql.top_values_statement(ir, series, ctx, rng)
        yield trends_sql.series_statement(
            ir, series, ctx, rng, BreakdownPlan(top=((MARK, MARK),), has_more=False, bins=(None, None))
        )
        if trends_sql.merges_breakdown_in_one_pass(ir, series):
            yield trends_sql.one_pass_breakdown_statement(ir, series, ctx, rng)
    elif ir.kind == "StickinessQuery":
        yield stickiness.statement(ir, series, ctx, rng)
    else:
        yield lifecycle.statement(ir, series, ctx, rng)
    for definition in ctx.actions.values():
        yield select(action_condition(definition, ctx.timezone))


@pytest.mark.parametrize("index", range(9))
def test_user_values_reach_sql_only_as_parameters(index: int) -> None:
    payload, actions = list(_marked_payloads())[index]
    for statement in _statements(payload, actions):
        compiled = statement.compile(dialect=postgresql.dialect())
        sql = str(compiled)
        assert "zq1" not in sql
        assert "DROP TABLE" not in sql
        bound = [value for value in compiled.params.values() if isinstance(value, str | list | tuple)]
        assert any(MARK in (value if isinstance(value, str) else map(str, value)) for value in bound)
