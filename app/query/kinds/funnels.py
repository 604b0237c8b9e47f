"""FunnelsQuery: run the compiled statements and shape results exactly as PostHog's funnel runner.

Semantics (the compiler is `funnel_rows` → `funnel_chains` → `funnel_sql`):

- An actor enters the funnel with any step-0 event in the date range and converts through the steps
  in order within the conversion window counted from that entry; all steps happen in the range.
  Each actor counts once, with their best entry (most steps; among those, one not excluded, then the
  one finishing first, then the latest entry), so step counts never increase along the funnel and
  an actor converting twice counts once. One event never counts for two steps, so a repeated step
  (A → A → B) needs two A events. Actors are persons; events without a person don't count.
- strict: each step must be the actor's very next event (any event in between breaks it);
  unordered: the steps in any order within the window of the first one (named "Completed N steps").
- Exclusions (funnelFromStep → funnelToStep): an exclusion event after the entry's step-`from` event
  and before its step-`to` event (or, when `to` isn't reached, within the window) excludes it; an
  actor whose best entry is excluded disappears from every step, as in PostHog.
- Same timestamps: events are ordered by timestamp, then by the lowest funnel step they match, then
  by event uuid; events matching no step (exclusions, and unrelated events in strict funnels) come
  after step events of the same instant. So simultaneous events convert in funnel order, an exclusion
  at the same instant as step `from` counts (it sorts after it) but one at the instant of step `to`
  doesn't, and a strict funnel isn't broken by an unrelated event at the instant of its next step.
  The order is total, so results never depend on storage order.
- Conversion times are seconds between the steps of the counted entry (zero-second steps included);
  `average_conversion_time` / `median_conversion_time` (linear interpolation) over actors reaching
  that step.
- Breakdowns: first_touch / last_touch take the actor's value from their first / last step event
  with the property set; all_events runs the funnel once per value over events having it; step
  runs it once per value seen on step `breakdownAttributionValue`, which must have that value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from app.query import execute, shaping
from app.query.ir import QueryIR
from app.query.kinds import funnel_sql
from app.query.kinds.base import Plan
from app.query.specs import FunnelSpec


def _spec(ir: QueryIR) -> FunnelSpec:
    assert ir.funnel is not None
    return ir.funnel


def breakdown_value(ir: QueryIR, value: Sequence[str] | None) -> Any:
    if ir.breakdown is None or value is None:
        return None
    return list(value) if ir.breakdown.multi else value[0]


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)


def _step(ir: QueryIR, k: int, row: Row[Any]) -> dict[str, Any]:
    series = ir.series[k]
    unordered = _spec(ir).order == "unordered"
    item: dict[str, Any] = {
        "action_id": None if unordered else (series.event if series.kind == "events" else series.action_id),
        "name": f"Completed {k + 1} step{'s' if k else ''}" if unordered else series.name,
        "custom_name": None if unordered else series.custom_name,
        "order": k,
        "people": [],
        "count": int(row._mapping[funnel_sql.count(k)]),
        "type": "events" if unordered else series.kind,
        "average_conversion_time": _optional(row._mapping[f"avg{k}"]) if k else None,
        "median_conversion_time": _optional(row._mapping[f"median{k}"]) if k else None,
    }
    if ir.breakdown is not None:
        item["breakdown"] = item["breakdown_value"] = breakdown_value(ir, row.value)
    return item


def _rank(ir: QueryIR, row: Row[Any]) -> tuple[Any, ...]:
    counts = [-int(row._mapping[funnel_sql.count(k)]) for k in range(len(ir.series) - 1, -1, -1)]
    return (bool(row.is_other), *counts, list(row.value))


async def steps(connection: AsyncConnection, plan: Plan) -> dict[str, Any]:
    ir = plan.ir
    rows = list(await execute.fetch_all(connection, funnel_sql.steps_statement(ir, plan.ctx, plan.range)))
    if ir.breakdown is None:
        return {"results": [_step(ir, k, rows[0]) for k in range(len(ir.series))]}
    rows.sort(key=lambda row: _rank(ir, row))
    results = [[_step(ir, k, row) for k in range(len(ir.series))] for row in rows]
    has_more = bool(rows) and int(rows[0].ranked_values) > ir.breakdown.limit
    return {"results": results, "hasMore": has_more}


async def time_to_convert(connection: AsyncConnection, plan: Plan) -> dict[str, Any]:
    statement = funnel_sql.time_to_convert_statement(plan.ir, plan.ctx, plan.range)
    rows = await execute.fetch_all(connection, statement)
    first = rows[0]
    if not first.n:
        return {"results": {"bins": [], "average_conversion_time": None}}
    persons = {int(row.bin): int(row.persons) for row in rows if row.bin is not None}
    low, width = float(first.low), float(first.width)
    bins = [[round(low + i * width), persons.get(i, 0)] for i in range(int(first.bins) + 1)]
    return {"results": {"bins": bins, "average_conversion_time": float(first.mean)}}


def _trend_label(bucket: datetime) -> str:
    return f"{bucket.day}-{bucket.strftime('%b-%Y')}"


async def trends(connection: AsyncConnection, plan: Plan) -> dict[str, Any]:
    ir, rng = plan.ir, plan.range
    rows = await execute.fetch_all(connection, funnel_sql.trends_statement(ir, plan.ctx, rng))
    buckets = rng.buckets()
    per_value: dict[tuple[str, ...] | None, dict[datetime, tuple[int, int]]] = {}
    for row in rows:
        key = tuple(row.value) if row.value is not None else None
        per_value.setdefault(key, {})[row.period] = (int(row.reached_from), int(row.reached_to))
    if ir.breakdown is None:
        per_value.setdefault(None, {})
    # As PostHog: most entrants first, then by value descending.
    ranked = sorted(per_value.items(), key=lambda kv: kv[0] or (), reverse=True)
    ranked.sort(key=lambda kv: -sum(reached_from for reached_from, _ in kv[1].values()))
    if ir.breakdown is not None:
        ranked = ranked[: ir.breakdown.limit]
    results = []
    for value, periods in ranked:
        data = []
        for start in buckets:
            reached_from, reached_to = periods.get(start, (0, 0))
            data.append(round(reached_to / reached_from * 100, 2) if reached_from else 0)
        item: dict[str, Any] = {
            "count": len(buckets),
            "data": data,
            "days": shaping.days(buckets, rng.interval),
            "labels": [_trend_label(b) for b in buckets],
        }
        if ir.breakdown is not None:
            item["breakdown_value"] = breakdown_value(ir, value)
        results.append(item)
    return {"results": results}


async def run(connection: AsyncConnection, plan: Plan) -> dict[str, Any]:
    await execute.use_sort_memory(connection)
    viz = _spec(plan.ir).viz
    if viz == "time_to_convert":
        return await time_to_convert(connection, plan)
    if viz == "trends":
        return await trends(connection, plan)
    return await steps(connection, plan)
