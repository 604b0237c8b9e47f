"""TrendsQuery compiler: one statement per (series, period), plus breakdown discovery statements.

Output columns: `bucket` (naive local interval start; absent for aggregated displays), `bv0..bvN`
(breakdown values), `value`. Pure: builds SQLAlchemy Core, never executes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Select, and_, column, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY

from app.query import source
from app.query.aggregations import (
    ACTIVE_WINDOWS,
    FIRST_EVENT_MATH,
    is_count_per_actor,
    per_actor_aggregate,
    row_aggregate,
)
from app.query.breakdowns import (
    BreakdownPlan,
    column_is_kept,
    column_name,
    histogram_bounds_query,
    mapped_columns,
    raw_columns,
    top_values_query,
)
from app.query.dates import ResolvedRange, localize
from app.query.ir import QueryIR, Series
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
    windowed = math in ACTIVE_WINDOWS and not ir.aggregated
    windows = active_windows(rng, ACTIVE_WINDOWS[math]) if windowed else []
    rows = source.rows(
        ir,
        series,
        ctx,
        lower=windows[0][1] if windows else rng.events_from,
        upper=rng.date_to,
        extra=_extra(ir, series),
        first=FIRST_EVENT_MATH.get(math),
    )
    breakdown_columns = mapped_columns(rows, ir.breakdown, plan) if ir.breakdown and plan else []
    where = []
    if ir.breakdown and plan and plan.top is not None and ir.breakdown.hide_other:
        raw = [rows.c[column_name(i)] for i in range(len(ir.breakdown.items))]
        where.append(column_is_kept(raw, plan.top))

    if windowed:
        table = (
            func.unnest(
                literal([w[0] for w in windows], ARRAY(DateTime())),
                literal([w[1] for w in windows], ARRAY(DateTime(timezone=True))),
                literal([w[2] for w in windows], ARRAY(DateTime(timezone=True))),
            )
            .table_valued(
                column("bucket", DateTime()),
                column("window_start", DateTime(timezone=True)),
                column("window_end", DateTime(timezone=True)),
            )
            .render_derived(name="w")
        )
        keys = [table.c.bucket.label("bucket"), *breakdown_columns]
        joined = table.join(rows, and_(rows.c.ts >= table.c.window_start, rows.c.ts < table.c.window_end))
        return (
            select(*keys, row_aggregate(math, rows).label("value"))
            .select_from(joined)
            .where(*where)
            .group_by(*keys)
        )

    keys = (
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
