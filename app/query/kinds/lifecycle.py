"""LifecycleQuery: per interval, actors who are new, returning, resurrecting, or gone dormant.

- new: the actor's first matching event ever falls in the interval;
- returning: active in this interval and the previous one;
- resurrecting: active now, not in the previous interval, but active at some point before;
- dormant: active in the previous interval but not in this one (reported as a negative count).

"First ever" is the actor's first *matching* event (PostHog uses the person's creation time, which
here is ingestion time and would make imported history all "new").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    String,
    and_,
    case,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from app.query import execute, shaping, source, windows
from app.query.dates import ResolvedRange, localize, step
from app.query.ir import QueryIR, Series
from app.query.kinds.base import Plan
from app.query.sql import FIRST_SEEN, bucket

STATUSES = ("new", "returning", "resurrecting", "dormant")
_MOMENT = timedelta(microseconds=1)  # `source.rows` bounds are inclusive; history ends just before
_ONE = {
    "minute": "interval '1 minute'",
    "hour": "interval '1 hour'",
    "day": "interval '1 day'",
    "week": "interval '1 week'",
    "month": "interval '1 month'",
}


def _activity(
    ir: QueryIR, series: Series, ctx: source.CompileContext, rng: ResolvedRange, first_period: datetime
) -> Select[Any]:
    """(person_id, period): each actor's active periods from `first_period` (naive local) to the end."""
    lower = localize(first_period, rng.tz)
    rows = source.rows(ir, series, ctx, lower=lower, upper=rng.date_to)
    known = rows.c.person_id.is_not(None)
    if rng.interval in windows.WINDOWED_INTERVALS and source.index_only(ir, series, ctx):
        starts = [first_period, *rng.buckets()]
        windowed = windows.bucket_windows(rng, starts)
        active = windows.per_bucket(windowed, rows, [rows.c.person_id], [], [known]).subquery("active")
        return select(active.c.person_id, active.c.bucket.label("period"))
    period = bucket(rows.c.ts, rng.interval, rng.timezone, rng.week_start_day).label("period")
    return select(rows.c.person_id, period).where(known).distinct()


def _active_before(
    ir: QueryIR, series: Series, ctx: source.CompileContext, before: datetime, person: Any
) -> ColumnElement[bool]:
    """Whether `person` did the series' event before `before`.

    For an event with no filters, `person_event_first_seen` answers (about 30% of a lifecycle's time
    at 1M events); otherwise the older events themselves. Inside CASE the check stays a subplan,
    which Postgres hashes from one index-only scan; as a join it would probe each actor's events
    through the heap instead.
    """
    if source.index_only(ir, series, ctx):
        return exists().where(
            FIRST_SEEN.c.team_id == literal(ctx.team_id),
            FIRST_SEEN.c.event == literal(series.event, String),
            FIRST_SEEN.c.first_ts < literal(before, DateTime(timezone=True)),
            FIRST_SEEN.c.person_id == person,
        )
    history = source.rows(ir, series, ctx, lower=None, upper=before - _MOMENT)
    return exists().where(history.c.person_id == person)


def statement(ir: QueryIR, series: Series, ctx: source.CompileContext, rng: ResolvedRange) -> Select[Any]:
    """Statuses per period in one pass over the range's activity (plus the period before it).

    An actor is new in their first active period when they have no matching event before the range's
    activity starts; whether they have one is the only look at older history.
    """
    buckets = rng.buckets()
    first_bucket, last_bucket = buckets[0], buckets[-1]
    lookback = step(first_bucket, rng.interval, -1)  # tells returning from resurrecting in the first bucket
    one: Any = literal_column(_ONE[rng.interval])

    activity = _activity(ir, series, ctx, rng, lookback).subquery("activity")
    person, period = activity.c.person_id, activity.c.period
    marked = select(
        person,
        period,
        func.lag(period).over(partition_by=person, order_by=period).label("previous"),
        func.lead(period).over(partition_by=person, order_by=period).label("next"),
    ).cte("marked")  # read by the statuses, the history check and the dormant half: computed once

    is_new = and_(
        marked.c.previous.is_(None),
        ~_active_before(ir, series, ctx, localize(lookback, rng.tz), marked.c.person_id),
    )
    status = case(
        (is_new, literal("new", String)),
        (marked.c.previous == marked.c.period - one, literal("returning", String)),
        else_=literal("resurrecting", String),
    )
    first_literal = literal(first_bucket, DateTime())
    last_literal = literal(last_bucket, DateTime())
    active = (
        select(marked.c.period.label("period"), status.label("status"), func.count().label("n"))
        .where(marked.c.period >= first_literal)
        .group_by(marked.c.period, status)
    )
    gone = marked.c.period + one
    dormant = (
        select(gone.label("period"), literal("dormant", String).label("status"), -func.count().label("n"))
        .where(
            or_(marked.c.next.is_(None), marked.c.next > gone),
            and_(gone >= first_literal, gone <= last_literal),
        )
        .group_by(gone)
    )
    return union_all(active, dormant)  # type: ignore[return-value]


async def run(connection: AsyncConnection, plan: Plan) -> dict[str, Any]:
    ir, rng = plan.ir, plan.range
    series = ir.series[0]
    buckets = rng.buckets()
    counts: dict[tuple[str, datetime], float] = {}
    for row in await execute.fetch_all(connection, statement(ir, series, plan.ctx, rng)):
        counts[(row.status, row.period)] = float(row.n)
    days = shaping.days(buckets, ir.interval)
    labels = shaping.labels(buckets, ir.interval)
    results = []
    for status in STATUSES:
        if status not in ir.toggled_lifecycles:
            continue
        data = [counts.get((status, b), 0.0) for b in buckets]
        results.append(
            {
                "action": {
                    "id": series.event if series.kind == "events" else series.action_id,
                    "name": series.name,
                    "type": series.kind,
                    "order": 0,
                    "math": "total",
                    "custom_name": series.custom_name,
                },
                "data": data,
                "count": sum(data),
                "labels": labels,
                "days": days,
                "label": f"{series.label} - {status}",
                "status": status,
            }
        )
    return {"results": results}
