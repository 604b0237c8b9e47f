"""TrendsQuery compiler: one statement per (series, period), plus breakdown discovery statements.

Output columns: `bucket` (naive local interval start; absent for aggregated displays), `bv0..bvN`
(breakdown values), `value`. Pure: builds SQLAlchemy Core, never executes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Subquery,
    and_,
    case,
    func,
    literal,
    select,
)

from app.query import source, windows
from app.query.aggregations import (
    ACTIVE_WINDOWS,
    FIRST_EVENT_MATH,
    is_count_per_actor,
    per_actor_aggregate,
    row_aggregate,
)
from app.query.breakdowns import (
    OTHER,
    BreakdownPlan,
    column_is_kept,
    column_name,
    has_histogram,
    histogram_bounds_query,
    mapped_columns,
    raw_columns,
    top_values_query,
)
from app.query.dates import ResolvedRange, localize
from app.query.ir import Breakdown, QueryIR, Series
from app.query.sql import bucket, numeric


def active_windows(rng: ResolvedRange, days: int) -> list[tuple[datetime, datetime, datetime]]:
    """(bucket, window start, window end) for weekly/monthly active users: the `days` days up to the
    end of each bucket (or the range's end), in local time."""
    tz, end_of_range = rng.tz, rng.local_to + timedelta(microseconds=1)
    windows = []
    for start in rng.buckets():
        end = min(rng.bucket_end(start), end_of_range)
        windows.append((start, localize(end - timedelta(days=days), tz), localize(end, tz)))
    return windows


# Maths whose per-bucket values add up exactly when breakdown values merge into "other".
MERGEABLE_MATHS = ("total", "sum", "min", "max")


def scans_per_bucket(ir: QueryIR, series: Series, ctx: source.CompileContext, rng: ResolvedRange) -> bool:
    """Whether the series aggregates each bucket's own index range (a LATERAL subquery per bucket)
    instead of computing a local-time bucket for every row and grouping by it. Over an index-only
    scan a range per bucket costs far less than timezone + date_trunc + hashing per event; rows that
    need the heap are better read by one (parallel) scan."""
    math = series.math
    return (
        not ir.aggregated
        and rng.interval in windows.WINDOWED_INTERVALS
        and ir.breakdown is None
        and series.math_property is None
        and math in ("total", "dau")
        and source.index_only(ir, series, ctx)
    )


def merges_breakdown_in_one_pass(ir: QueryIR, series: Series) -> bool:
    """Whether the breakdown's top values and the series come from one scan: per (bucket, value)
    aggregates ranked in SQL, then summed into kept values and "other". Needs a math that merges
    exactly, and no histogram (its bins need the bounds first)."""
    breakdown = ir.breakdown
    return breakdown is not None and not has_histogram(breakdown) and series.math in MERGEABLE_MATHS


def _extra(ir: QueryIR, series: Series) -> dict[str, ColumnElement[Any]]:
    extra = dict(raw_columns(ir.breakdown))
    if series.math_property:
        extra["num"] = numeric("event", series.math_property)
    return extra


def discovery_rows(ir: QueryIR, series: Series, ctx: source.CompileContext, rng: ResolvedRange) -> Any:
    return source.rows(
        ir, series, ctx, lower=rng.events_from, upper=rng.date_to, extra=raw_columns(ir.breakdown)
    )


def top_values_statement(
    ir: QueryIR, series: Series, ctx: source.CompileContext, rng: ResolvedRange
) -> Select[Any]:
    assert ir.breakdown is not None
    return top_values_query(discovery_rows(ir, series, ctx, rng), ir.breakdown)


def histogram_statement(
    ir: QueryIR, series: Series, ctx: source.CompileContext, rng: ResolvedRange
) -> Select[Any]:
    assert ir.breakdown is not None
    return histogram_bounds_query(discovery_rows(ir, series, ctx, rng), ir.breakdown)


def series_statement(
    ir: QueryIR,
    series: Series,
    ctx: source.CompileContext,
    rng: ResolvedRange,
    plan: BreakdownPlan | None = None,
) -> Select[Any]:
    math = series.math
    if math in ACTIVE_WINDOWS and not ir.aggregated:
        return _active_users_statement(ir, series, ctx, rng, plan)
    rows = source.rows(
        ir,
        series,
        ctx,
        lower=rng.events_from,
        upper=rng.date_to,
        extra=_extra(ir, series),
        first=FIRST_EVENT_MATH.get(math),
    )
    breakdown_columns = mapped_columns(rows, ir.breakdown, plan) if ir.breakdown and plan else []
    where = _hidden_other(ir, rows, plan)
    if scans_per_bucket(ir, series, ctx, rng):
        if math == "dau":
            return _persons_per_bucket(rng, rows, breakdown_columns, where)
        value = row_aggregate(math, rows).label("value")
        return windows.per_bucket(windows.bucket_windows(rng), rows, breakdown_columns, [value], where)

    keys: list[ColumnElement[Any]] = (
        []
        if ir.aggregated
        else [bucket(rows.c.ts, rng.interval, rng.timezone, rng.week_start_day).label("bucket")]
    )
    keys += breakdown_columns
    if is_count_per_actor(math):
        per_actor = (
            select(*keys, rows.c.person_id, func.count().label("n"))
            .where(*where)
            .group_by(*keys, rows.c.person_id)
            .subquery("per_actor")
        )
        outer = [per_actor.c[key.name] for key in keys]
        return select(*outer, per_actor_aggregate(math, per_actor.c.n).label("value")).group_by(*outer)
    return (
        select(*keys, row_aggregate(math, rows).label("value"))
        .select_from(rows)
        .where(*where)
        .group_by(*keys)
    )


def _persons_per_bucket(
    rng: ResolvedRange,
    rows: Subquery,
    breakdown_columns: list[ColumnElement[Any]],
    where: list[ColumnElement[bool]],
) -> Select[Any]:
    """Unique persons per bucket in two steps, distinct (bucket, values, person) and then a count:
    hashing the pairs costs less than sorting for `count(DISTINCT person_id)` in every group."""
    known = rows.c.person_id.is_not(None)
    columns = [*breakdown_columns, rows.c.person_id]
    pairs = windows.per_bucket(windows.bucket_windows(rng), rows, columns, [], [*where, known]).subquery(
        "pairs"
    )
    keys = [pairs.c.bucket, *(pairs.c[c.name] for c in breakdown_columns)]
    return select(*keys, func.count().label("value")).group_by(*keys)


def _hidden_other(ir: QueryIR, rows: Subquery, plan: BreakdownPlan | None) -> list[ColumnElement[bool]]:
    """With `breakdown_hide_other_aggregation`, only rows of kept values count."""
    if not (ir.breakdown and plan and plan.top is not None and ir.breakdown.hide_other):
        return []
    raw = [rows.c[column_name(i)] for i in range(len(ir.breakdown.items))]
    return [column_is_kept(raw, plan.top)]


def _active_users_statement(
    ir: QueryIR,
    series: Series,
    ctx: source.CompileContext,
    rng: ResolvedRange,
    plan: BreakdownPlan | None,
) -> Select[Any]:
    """Weekly / monthly active users: distinct persons in the `days` days up to each bucket's end."""
    active = active_windows(rng, ACTIVE_WINDOWS[series.math])
    rows = source.rows(ir, series, ctx, lower=active[0][1], upper=rng.date_to, extra=_extra(ir, series))
    breakdown_columns = mapped_columns(rows, ir.breakdown, plan) if ir.breakdown and plan else []
    table = windows.windows_table(active)
    keys = [table.c.bucket.label("bucket"), *breakdown_columns]
    joined = table.join(rows, and_(rows.c.ts >= table.c.window_start, rows.c.ts < table.c.window_end))
    return (
        select(*keys, row_aggregate(series.math, rows).label("value"))
        .select_from(joined)
        .where(*_hidden_other(ir, rows, plan))
        .group_by(*keys)
    )


def one_pass_breakdown_statement(
    ir: QueryIR, series: Series, ctx: source.CompileContext, rng: ResolvedRange
) -> Select[Any]:
    """A breakdown in one scan (see `merges_breakdown_in_one_pass`).

    Aggregates per (bucket, raw value) once, ranks values by their event count over the range (as
    `top_values_query`: count desc, then value), and merges values ranked past the limit into
    "other". Columns: `bucket` (unless aggregated), `bv0..bvN`, `values_found` (distinct value
    combinations, for `hasMore`), `value`.
    """
    breakdown = ir.breakdown
    assert breakdown is not None
    rows = source.rows(ir, series, ctx, lower=rng.events_from, upper=rng.date_to, extra=_extra(ir, series))
    raw = [rows.c[column_name(i)].label(column_name(i)) for i in range(len(breakdown.items))]
    aggregates = [func.count().label("n"), row_aggregate(series.math, rows).label("value")]
    if ir.aggregated:
        grouped = select(*raw, *aggregates).group_by(*raw)
    else:  # breakdown values live in the heap: one scan (which Postgres may run in parallel)
        at = bucket(rows.c.ts, rng.interval, rng.timezone, rng.week_start_day).label("bucket")
        grouped = select(at, *raw, *aggregates).group_by(at, *raw)
    per_value = grouped.cte("per_value")  # read by the ranking and the merge: computed once
    return _merge_ranked(ir, breakdown, series.math, per_value)


def _merged(math: str, value: ColumnElement[Any]) -> ColumnElement[Any]:
    """Per-bucket values of several breakdown values as one: counts and sums add up."""
    if math in ("min", "max"):
        return func.min(value) if math == "min" else func.max(value)
    return func.sum(value)


def _merge_ranked(ir: QueryIR, breakdown: Breakdown, math: str, per_value: Any) -> Select[Any]:
    values = [per_value.c[column_name(i)] for i in range(len(breakdown.items))]
    ranked = (
        select(
            *values,
            func.row_number().over(order_by=[func.sum(per_value.c.n).desc(), *values]).label("rank"),
        )
        .group_by(*values)
        .cte("ranked")
    )
    kept = ranked.c.rank <= literal(breakdown.limit)
    merged = [
        case((kept, value), else_=literal(OTHER, String)).label(column_name(i))
        for i, value in enumerate(values)
    ]
    keys = merged if ir.aggregated else [per_value.c.bucket.label("bucket"), *merged]
    values_found = select(func.count()).select_from(ranked).scalar_subquery()
    same_value = and_(*(ranked.c[column_name(i)] == value for i, value in enumerate(values)))
    statement = (
        select(*keys, values_found.label("values_found"), _merged(math, per_value.c.value).label("value"))
        .select_from(per_value.join(ranked, same_value))
        .group_by(*keys)
    )
    return statement.where(kept) if breakdown.hide_other else statement
