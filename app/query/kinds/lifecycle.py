"""LifecycleQuery: per interval, actors who are new, returning, resurrecting, or gone dormant.

- new: the actor's first matching event ever falls in the interval;
- returning: active in this interval and the previous one;
- resurrecting: active now, not in the previous interval, but active at some point before;
- dormant: active in the previous interval but not in this one (reported as a negative count).

"First ever" is the actor's first *matching* event (PostHog uses the person's creation time, which
here is ingestion time and would make imported history all "new").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Select,
    String,
    and_,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from app.query import execute, shaping, source
from app.query.dates import ResolvedRange, localize, step
from app.query.ir import QueryIR, Series
from app.query.kinds.base import Plan
from app.query.sql import bucket

STATUSES = ("new", "returning", "resurrecting", "dormant")
_ONE = {
    "minute": "interval '1 minute'",
    "hour": "interval '1 hour'",
    "day": "interval '1 day'",
    "week": "interval '1 week'",
    "month": "interval '1 month'",
}


def statement(ir: QueryIR, series: Series, ctx: source.CompileContext, rng: ResolvedRange) -> Select[Any]:
    buckets = rng.buckets()
    first_bucket, last_bucket = buckets[0], buckets[-1]
    before = localize(step(first_bucket, rng.interval, -1), rng.tz)
    one: Any = literal_column(_ONE[rng.interval])

    def period_of(ts: Any) -> Any:
        return bucket(ts, rng.interval, rng.timezone, rng.week_start_day)

    recent = source.rows(ir, series, ctx, lower=before, upper=rng.date_to)
    activity = (
        select(recent.c.person_id, period_of(recent.c.ts).label("period"))
        .where(recent.c.person_id.is_not(None))
        .distinct()
        .cte("activity")  # read twice (rows and who to look up): computed once
    )
    history = source.rows(ir, series, ctx, lower=None, upper=rng.date_to)
    first_seen = (
        select(history.c.person_id, func.min(history.c.ts).label("first_ts"))
        .where(history.c.person_id.in_(select(activity.c.person_id)))
        .group_by(history.c.person_id)
        .subquery("first_seen")
    )
    marked = (
        select(
            activity.c.person_id,
            activity.c.period,
            func.lag(activity.c.period)
            .over(partition_by=activity.c.person_id, order_by=activity.c.period)
            .label("previous"),
            func.lead(activity.c.period)
            .over(partition_by=activity.c.person_id, order_by=activity.c.period)
            .label("next"),
            period_of(first_seen.c.first_ts).label("first_period"),
        )
        .join_from(activity, first_seen, first_seen.c.person_id == activity.c.person_id)
        .cte("marked")  # read by both halves of the union: a CTE computes it once
    )
    first_literal = literal(first_bucket, DateTime())
    last_literal = literal(last_bucket, DateTime())
    status = case(
        (marked.c.period == marked.c.first_period, literal("new", String)),
        (marked.c.previous == marked.c.period - one, literal("returning", String)),
        else_=literal("resurrecting", String),
    )
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
