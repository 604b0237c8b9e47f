"""The funnel, retention, paths and correlation compilers put user input in bound parameters only.

Every user-controlled string below carries a marker; the compiled SQL text (no database needed) must
not contain it anywhere, while the bound parameters must.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Select
from sqlalchemy.dialects import postgresql

from app.query import dates, normalize
from app.query.actions import ActionDef, ActionStep
from app.query.ir import QueryIR
from app.query.kinds import funnel_correlation, funnel_sql, paths, retention
from app.query.parse import parse_query
from app.query.source import CompileContext

MARK = "zq'x\"--"
NOW = datetime(2024, 3, 14, tzinfo=UTC)


def prop(key: str = f"k{MARK}", value: Any = f"v{MARK}", **extra: Any) -> dict[str, Any]:
    return {"key": key, "value": value, "type": "event", **extra}


def events(*names: str) -> list[dict[str, Any]]:
    return [{"kind": "EventsNode", "event": f"{n}{MARK}", "properties": [prop()]} for n in names]


FUNNEL = {
    "kind": "FunnelsQuery",
    "series": [*events("a", "b"), {"kind": "ActionsNode", "id": 7}],
    "properties": [prop(operator="icontains")],
    "breakdownFilter": {"breakdown": f"bd{MARK}"},
    "funnelsFilter": {
        "exclusions": [{"kind": "EventsNode", "event": f"x{MARK}", "funnelFromStep": 0, "funnelToStep": 1}],
        "breakdownAttributionType": "step",
        "breakdownAttributionValue": 1,
    },
}
CASES: dict[str, tuple[dict[str, Any], Any]] = {
    "funnel steps": (FUNNEL, funnel_sql.steps_statement),
    "funnel strict trends": (
        {**FUNNEL, "funnelsFilter": {"funnelOrderType": "strict", "funnelVizType": "trends"}},
        funnel_sql.trends_statement,
    ),
    "funnel unordered time to convert": (
        {**FUNNEL, "funnelsFilter": {"funnelOrderType": "unordered", "funnelVizType": "time_to_convert"}},
        funnel_sql.time_to_convert_statement,
    ),
    "retention": (
        {
            "kind": "RetentionQuery",
            "breakdownFilter": {"breakdown": f"bd{MARK}", "breakdown_type": "person"},
            "retentionFilter": {
                "retentionType": "retention_first_ever_occurrence",
                "minimumOccurrences": 2,
                "targetEntity": {"id": f"t{MARK}", "type": "events", "properties": [prop()]},
                "returningEntity": {"id": 7, "type": "actions"},
            },
        },
        retention.statement,
    ),
    "paths": (
        {
            "kind": "PathsQuery",
            "properties": [prop(operator="regex", value=f"r{MARK}")],
            "pathsFilter": {
                "startPoint": f"/s{MARK}",
                "endPoint": f"/e{MARK}",
                "excludeEvents": [f"/x{MARK}"],
                "pathGroupings": [f"/g{MARK}*"],
                "localPathCleaningFilters": [{"alias": f"al{MARK}", "regex": f"re{MARK}"}],
                "includeEventTypes": ["$pageview", "custom_event"],
            },
        },
        paths.statement,
    ),
    "correlation events": (
        {
            "kind": "FunnelCorrelationQuery",
            "source": {"kind": "FunnelsActorsQuery", "source": {**FUNNEL, "breakdownFilter": None}},
            "funnelCorrelationExcludeEventNames": [f"n{MARK}"],
        },
        funnel_correlation.statement,
    ),
    "correlation properties": (
        {
            "kind": "FunnelCorrelationQuery",
            "source": {"kind": "FunnelsActorsQuery", "source": FUNNEL},
            "funnelCorrelationType": "properties",
            "funnelCorrelationNames": [f"p{MARK}"],
            "funnelCorrelationExcludeNames": [f"q{MARK}"],
        },
        funnel_correlation.statement,
    ),
    "correlation event properties": (
        {
            "kind": "FunnelCorrelationQuery",
            "source": {"kind": "FunnelsActorsQuery", "source": FUNNEL},
            "funnelCorrelationType": "event_with_properties",
            "funnelCorrelationEventNames": [f"n{MARK}"],
            "funnelCorrelationEventExcludePropertyNames": [f"q{MARK}"],
        },
        funnel_correlation.statement,
    ),
}


def compiled(query: dict[str, Any], build: Any) -> tuple[str, list[Any]]:
    ir: QueryIR = normalize.normalize(parse_query(query))
    rng = dates.resolve(ir.date_range, interval=ir.interval, now=NOW, timezone="UTC", week_start_day=0)
    action = ActionDef(7, "Act", (ActionStep(event=f"act{MARK}", url=f"u{MARK}"),))
    ctx = CompileContext(team_id=1, timezone="UTC", week_start_day=0, actions={7: action})
    statement: Select[Any] = build(ir, ctx, rng)
    sql = statement.compile(dialect=postgresql.dialect())
    return str(sql), list(sql.params.values())


@pytest.mark.parametrize("name", list(CASES))
def test_user_input_is_only_ever_bound(name: str) -> None:
    sql, params = compiled(*CASES[name])
    assert MARK not in sql
    assert "zq" not in sql
    flat = [p for value in params for p in (value if isinstance(value, list) else [value])]
    assert any(isinstance(p, str) and MARK in p for p in flat)


@pytest.mark.parametrize(
    ("series", "breakdown", "reads_uuid"),
    [
        ([{"kind": "EventsNode", "event": "a"}, {"kind": "EventsNode", "event": "b"}], None, False),
        ([{"kind": "EventsNode", "event": "a"}, *events("b")], None, True),  # a step with a filter
        ([{"kind": "EventsNode", "event": "a"}, {"kind": "EventsNode"}], None, True),  # any event
        ([{"kind": "EventsNode", "event": "a"}, {"kind": "ActionsNode", "id": 7}], None, True),
        ([{"kind": "EventsNode", "event": "a"}, {"kind": "EventsNode", "event": "b"}], "$browser", True),
    ],
)
def test_funnel_rows_read_the_uuid_only_when_same_instant_rows_can_differ(
    series: list[dict[str, Any]], breakdown: str | None, reads_uuid: bool
) -> None:
    query = {
        "kind": "FunnelsQuery",
        "series": series,
        "breakdownFilter": {"breakdown": breakdown} if breakdown else None,
    }
    sql, _ = compiled(query, funnel_sql.steps_statement)
    assert ("e.uuid" in sql) is reads_uuid


A, B = ({"kind": "EventsNode", "event": name} for name in ("a", "b"))


@pytest.mark.parametrize(
    ("series", "one_array"),
    [
        ([A, B], True),
        ([A, B, A], False),  # a repeated step: one event can match two steps
        ([A, *events("b")], False),  # a step with a filter
        ([A, {"kind": "EventsNode"}], False),  # any event
        ([A, {"kind": "ActionsNode", "id": 7}], False),
    ],
)
def test_funnel_steps_share_one_array_only_when_an_event_matches_one_step(
    series: list[dict[str, Any]], one_array: bool
) -> None:
    sql, _ = compiled({"kind": "FunnelsQuery", "series": series}, funnel_sql.steps_statement)
    assert ("array_agg(funnel_sorted.first_step)" in sql) is one_array
    assert ("array_agg(funnel_sorted.s0)" in sql) is not one_array
