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

from app.query import execute, shaping, source
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


def statement(ir: QueryIR, series: Series, ctx: source.CompileContext, rng: ResolvedRange) -> Select[Any]:
    rows = source.rows(ir, series, ctx, lower=rng.events_from, upper=rng.date_to)
    key = period(ir, rows.c.ts, rng).label("period")
    per_period = (
        select(rows.c.person_id, key, func.count().label("n"))
        .where(rows.c.person_id.is_not(None))
        .group_by(rows.c.person_id, key)
    )
    if ir.criteria is not None:
        value = ir.criteria.value
        having = {"gte": func.count() >= value, "lte": func.count() <= value, "exact": func.count() == value}
        per_period = per_period.having(having[ir.criteria.operator])
    periods = per_period.subquery("per_period")
    per_person = (
        select(periods.c.person_id, cast(func.count(), Integer).label("active"))
        .group_by(periods.c.person_id)
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
