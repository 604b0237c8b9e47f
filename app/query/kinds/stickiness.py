"""StickinessQuery: how many actors were active on exactly (or at least) k of the range's intervals.

`intervalCount` groups that many intervals into one period; `stickinessCriteria` counts a period as
active only when the actor did the event at least / at most / exactly `value` times in it.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Integer, Select, cast, extract, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.query import execute, shaping, source
from app.query.dates import ResolvedRange
from app.query.ir import QueryIR, Series
from app.query.kinds.base import Plan
from app.query.sql import bucket

_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}


def period_count(rng: ResolvedRange) -> int:
    return math.ceil(len(rng.buckets()) / max(rng.interval_count, 1))


def statement(ir: QueryIR, series: Series, ctx: source.CompileContext, rng: ResolvedRange) -> Select[Any]:
    rows = source.rows(ir, series, ctx, lower=rng.date_from, upper=rng.date_to)
    local_bucket = bucket(rows.c.ts, rng.interval, rng.timezone, rng.week_start_day)
    first = literal(rng.truncate(rng.local_from))
    steps: Any
    if rng.interval == "month":
        steps = (extract("year", local_bucket) - extract("year", first)) * 12 + (
            extract("month", local_bucket) - extract("month", first)
        )
    else:
        steps = extract("epoch", local_bucket - first) / _SECONDS[rng.interval]
    period = func.floor(steps / max(rng.interval_count, 1)).label("period")
    per_period = (
        select(rows.c.person_id, period, func.count().label("n"))
        .where(rows.c.person_id.is_not(None))
        .group_by(rows.c.person_id, period)
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
