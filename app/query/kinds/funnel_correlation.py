"""FunnelCorrelationQuery: which events or properties go with converting, as PostHog's correlation.

The funnel's actors (breakdown ignored) split into successes (reached the last step) and failures.
- events: each event (not a funnel step, not excluded) the actor did after entering and before
  converting (or before the window closed), counted once per actor;
- properties: each `name::value` of the actors' person properties (`$all`: every property);
- event_with_properties: each `event::key::value` of the named events' properties, done in the same
  span (seen more than twice).
Odds ratios use a prior of one on every cell of the 2x2 table; a row seen by fewer than
min(25, 2% of actors) is insignificant and dropped; the ten strongest positive and ten strongest
negative correlations are returned. `skewed` when one outcome outnumbers the other tenfold.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Interval,
    Select,
    String,
    Text,
    and_,
    any_,
    case,
    column,
    distinct,
    false,
    func,
    literal,
    not_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from app.query import execute, source
from app.query.dates import ResolvedRange
from app.query.ir import QueryIR
from app.query.kinds import funnel_sql
from app.query.kinds.base import Plan
from app.query.kinds.funnel_chains import time
from app.query.specs import CorrelationSpec
from app.query.sql import EVENTS, PERSONS

MIN_PERSON_COUNT = 25
MIN_PERSON_PERCENTAGE = 0.02
PRIOR_COUNT = 1
TOP = 10


def spec_of(ir: QueryIR) -> CorrelationSpec:
    assert ir.correlation is not None
    return ir.correlation


def _actors(ir: QueryIR, ctx: source.CompileContext, rng: ResolvedRange) -> CTE:
    n = len(ir.series)
    runs = funnel_sql.runs(dataclasses.replace(ir, breakdown=None), ctx, rng)
    success = runs.c.depth == n
    return select(
        runs.c.pid,
        success.label("success"),
        runs.c[time(0)].label("first_ts"),
        case((success, runs.c[time(n - 1)])).label("final_ts"),
    ).cte("funnel_actors")


def step_events(ir: QueryIR, ctx: source.CompileContext) -> list[str]:
    names: set[str] = set()
    for series in ir.series:
        names |= source.series_events(series, ctx) or set()
    return sorted(names)


def _counts(name: ColumnElement[str], actor: Any, success: Any) -> list[ColumnElement[Any]]:
    return [
        name.label("name"),
        func.count(distinct(actor)).filter(success).label("success_count"),
        func.count(distinct(actor)).filter(not_(success)).label("failure_count"),
    ]


def _in_funnel_span(ir: QueryIR, ctx: source.CompileContext, rng: ResolvedRange, actors: CTE) -> list[Any]:
    assert ir.funnel is not None
    window = literal(timedelta(seconds=ir.funnel.window_seconds), Interval())
    names = step_events(ir, ctx)
    where = [
        EVENTS.c.team_id == literal(ctx.team_id),
        EVENTS.c.timestamp >= literal(rng.date_from),
        EVENTS.c.timestamp <= literal(rng.date_to),
        EVENTS.c.timestamp > actors.c.first_ts,
        EVENTS.c.timestamp < func.coalesce(actors.c.final_ts, actors.c.first_ts + window),
    ]
    if names:
        where.append(not_(EVENTS.c.event == any_(literal(names, ARRAY(Text)))))
    return where


def _without(values: tuple[str, ...], expression: ColumnElement[str]) -> list[ColumnElement[bool]]:
    return [not_(expression == any_(literal(list(values), ARRAY(Text))))] if values else []


def _events_rows(ir: QueryIR, ctx: source.CompileContext, rng: ResolvedRange, actors: CTE) -> Select[Any]:
    spec = spec_of(ir)
    return (
        select(*_counts(EVENTS.c.event, actors.c.pid, actors.c.success))
        .select_from(EVENTS.join(actors, actors.c.pid == EVENTS.c.person_id))
        .where(*_in_funnel_span(ir, ctx, rng, actors), *_without(spec.exclude_event_names, EVENTS.c.event))
        .group_by(EVENTS.c.event)
    )


def _event_property_rows(
    ir: QueryIR, ctx: source.CompileContext, rng: ResolvedRange, actors: CTE
) -> Select[Any]:
    spec = spec_of(ir)
    pairs = func.jsonb_each_text(EVENTS.c.properties).table_valued("key", "value").lateral("pairs")
    name = func.concat(
        EVENTS.c.event, literal("::", String), pairs.c.key, literal("::", String), pairs.c.value
    )
    rows = (
        select(*_counts(name, actors.c.pid, actors.c.success))
        .select_from(EVENTS.join(actors, actors.c.pid == EVENTS.c.person_id).join(pairs, true()))
        .where(
            *_in_funnel_span(ir, ctx, rng, actors),
            EVENTS.c.event == any_(literal(list(spec.event_names), ARRAY(Text))),
            *_without(spec.event_exclude_property_names, pairs.c.key),
        )
        .group_by(name)
    )
    return rows.having(func.count(distinct(actors.c.pid)) > 2)


def _person_property_rows(ir: QueryIR, ctx: source.CompileContext, actors: CTE) -> Select[Any]:
    spec = spec_of(ir)
    joined = actors.join(
        PERSONS, and_(PERSONS.c.team_id == literal(ctx.team_id), PERSONS.c.uuid == actors.c.pid)
    )
    if "$all" in spec.names:
        pairs = func.jsonb_each_text(PERSONS.c.properties).table_valued("key", "value").lateral("pairs")
    else:
        keys = (
            func.unnest(literal(list(spec.names), ARRAY(Text)))
            .table_valued(column("key", Text))
            .render_derived(name="wanted")
        )
        pairs = (
            select(keys.c.key, PERSONS.c.properties.op("->>", return_type=Text)(keys.c.key).label("value"))
            .select_from(keys)
            .correlate(PERSONS)
            .lateral("pairs")
        )
    name = func.concat(pairs.c.key, literal("::", String), pairs.c.value)
    return (
        select(*_counts(name, actors.c.pid, actors.c.success))
        .select_from(joined.join(pairs, true()))
        .where(pairs.c.value.is_not(None), *_without(spec.exclude_names, pairs.c.key))
        .group_by(name)
    )


def statement(ir: QueryIR, ctx: source.CompileContext, rng: ResolvedRange) -> Select[Any]:
    """Rows (is_total, name, success_count, failure_count): the totals row, then one per name."""
    spec = spec_of(ir)
    actors = _actors(ir, ctx, rng)
    if spec.type == "properties":
        rows = _person_property_rows(ir, ctx, actors)
    elif spec.type == "event_with_properties":
        rows = _event_property_rows(ir, ctx, rng, actors)
    else:
        rows = _events_rows(ir, ctx, rng, actors)
    per_name = rows.subquery("correlated")
    totals = select(
        true().label("is_total"),
        literal("", String).label("name"),
        func.count().filter(actors.c.success).label("success_count"),
        func.count().filter(not_(actors.c.success)).label("failure_count"),
    )
    named = select(false().label("is_total"), *per_name.c)
    ordered = union_all(totals, named).subquery("correlation")
    return select(*ordered.c).order_by(ordered.c.is_total.desc(), ordered.c.name.collate("C"))


def odds_ratio(success: int, failure: int, success_total: int, failure_total: int) -> float:
    return ((success + PRIOR_COUNT) * (failure_total - failure + PRIOR_COUNT)) / (
        (success_total - success + PRIOR_COUNT) * (failure + PRIOR_COUNT)
    )


def _serialized(name: str, success: int, failure: int, ratio: float) -> dict[str, Any]:
    return {
        "event": {"event": name, "properties": {}, "elements": []},
        "success_count": success,
        "failure_count": failure,
        "odds_ratio": ratio,
        "correlation_type": "success" if ratio > 1 else "failure",
    }


def correlations(rows: list[tuple[str, int, int]], success_total: int, failure_total: int) -> dict[str, Any]:
    if not success_total or not failure_total:
        return {"events": [], "skewed": True}
    skewed = success_total / failure_total > 10 or failure_total / success_total > 10
    threshold = min(MIN_PERSON_COUNT, MIN_PERSON_PERCENTAGE * (success_total + failure_total))
    scored = [
        _serialized(name, s, f, odds_ratio(s, f, success_total, failure_total))
        for name, s, f in rows
        if s + f >= threshold
    ]
    positive = sorted(
        (e for e in scored if e["correlation_type"] == "success"), key=lambda e: -e["odds_ratio"]
    )
    negative = sorted(
        (e for e in scored if e["correlation_type"] == "failure"), key=lambda e: e["odds_ratio"]
    )
    return {"events": positive[:TOP] + negative[:TOP], "skewed": skewed}


async def run(connection: AsyncConnection, plan: Plan) -> dict[str, Any]:
    await execute.use_sort_memory(connection)
    rows = await execute.fetch_all(connection, statement(plan.ir, plan.ctx, plan.range))
    totals = rows[0]
    named = [(row.name, int(row.success_count), int(row.failure_count)) for row in rows[1:]]
    return {"results": correlations(named, int(totals.success_count), int(totals.failure_count))}
