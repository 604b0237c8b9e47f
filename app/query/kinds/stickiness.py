"""StickinessQuery: how many actors were active on exactly (or at least) k of the range's intervals.

`intervalCount` groups that many whole intervals, counted back from the end of the range, into one
period (as PostHog); `stickinessCriteria` counts a period as active only when the actor did the event
at least / at most / exactly `value` times in it. A monthly range counts its whole first month.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import DateTime, Integer, Select, cast, extract, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.query import execute, shaping, source, windows
from app.query.dates import ResolvedRange
from app.query.ir import QueryIR, Series
from app.query.kinds.base import Plan
from app.query.sql import bucket, local_time

_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}


def period_count(rng: ResolvedRange) -> int:
    return math.ceil(len(rng.buckets()) / max(rng.interval_count, 1))


def _whole_intervals_back(local_ts: Any, rng: ResolvedRange) -> Any:
    """Complete intervals from an event to the end of the range (ClickHouse's `age`), in local time."""
    end = literal(rng.local_to, DateTime())
    if rng.interval == "month":
        age = func.age(end, local_ts)
        return extract("year", age) * 12 + extract("month", age)
    return func.floor(extract("epoch", end - local_ts) / _SECONDS[rng.interval])


def period(ir: QueryIR, ts: Any, rng: ResolvedRange) -> Any:
    """Without `intervalCount` a period is a calendar interval; with it, PostHog counts whole intervals
    back from the end of the range and groups `intervalCount` of them."""
    if ir.interval_count is None:
        return bucket(ts, rng.interval, rng.timezone, rng.week_start_day)
    back = _whole_intervals_back(local_time(ts, rng.timezone), rng)
    return func.floor(back / ir.interval_count)


def _per_period(ir: QueryIR, rows: Any, rng: ResolvedRange, *, index_only: bool) -> Any:
    """(person_id, period, n): each actor's events per period. Calendar periods of a day or longer
    read from the index alone come from one index range scan per period (see `app.query.windows`)."""
    known = rows.c.person_id.is_not(None)
    calendar = ir.interval_count is None and rng.interval in windows.WINDOWED_INTERVALS
    if calendar and index_only:
        columns, counts = [rows.c.person_id], [func.count().label("n")]
        per_bucket = windows.per_bucket(windows.bucket_windows(rng), rows, columns, counts, [known])
        return per_bucket.subquery("per_bucket")
    key = period(ir, rows.c.ts, rng).label("period")
    per_period = (
        select(rows.c.person_id, key, func.count().label("n")).where(known).group_by(rows.c.person_id, key)
    )
    return per_period.subquery("per_period")


def statement(ir: QueryIR, series: Series, ctx: source.CompileContext, rng: ResolvedRange) -> Select[Any]:
    rows = source.rows(ir, series, ctx, lower=rng.events_from, upper=rng.date_to)
    periods = _per_period(ir, rows, rng, index_only=source.index_only(ir, series, ctx))
    active = select(periods.c.person_id)
    if ir.criteria is not None:
        value, n = ir.criteria.value, periods.c.n
        active = active.where(
            {"gte": n >= value, "lte": n <= value, "exact": n == value}[ir.criteria.operator]
        )
    active_periods = active.subquery("active_periods")
    per_person = (
        select(active_periods.c.person_id, cast(func.count(), Integer).label("active"))
        .group_by(active_periods.c.person_id)
        .subquery("per_person")
    )
    return select(per_person.c.active, func.count().label("actors")).group_by(per_person.c.active)


def _labels(count: int, interval: str, cumulative: bool) -> list[str]:
    suffix = " or more" if cumulative else ""
    return [f"{k} {interval}{'' if k == 1 else 's'}{suffix}" for k in range(1, count + 1)]


async def run(connection: AsyncConnection, plan: Plan) -> dict[str, Any]:
    ir = plan.ir
    periods: list[tuple[str | None, ResolvedRange]] = [(None, plan.range)]
    if ir.compare is not None:
        periods = [("current", plan.range), ("previous", plan.range.shifted(ir.compare.compare_to))]
    results = []
    for series in ir.series:
        for label, rng in periods:
            total = period_count(rng)
            rows = await execute.fetch_all(connection, statement(ir, series, plan.ctx, rng))
            found = {int(row.active): int(row.actors) for row in rows}
            data = [float(found.get(k, 0)) for k in range(1, total + 1)]
            if ir.cumulative:
                data = [sum(data[i:]) for i in range(len(data))]
            item: dict[str, Any] = {
                "count": float(sum(found.values())),
                "data": data,
                "days": list(range(1, total + 1)),
                "labels": _labels(total, ir.interval, ir.cumulative),
                "label": series.label,
                "action": shaping.action(series),
                "filter": {},
            }
            if label is not None:
                item["compare"], item["compare_label"] = True, label
            results.append(item)
    return {"results": results}
