"""TrendsQuery: run the compiled statements and shape results exactly as PostHog's trends runner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.query import execute, formulas, shaping
from app.query.breakdowns import OTHER, Bins, BreakdownPlan, has_histogram
from app.query.dates import ResolvedRange
from app.query.ir import QueryIR, Series
from app.query.kinds import trends_sql
from app.query.kinds.base import Plan
from app.query.source import CompileContext

Key = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SeriesResult:
    series: Series
    period: str | None  # "current" / "previous" with compare, else None
    range: ResolvedRange
    buckets: list[datetime]
    points: dict[Key, dict[datetime | None, float]]


async def discover(
    connection: AsyncConnection, ir: QueryIR, series: Series, ctx: CompileContext, rng: ResolvedRange
) -> BreakdownPlan:
    assert ir.breakdown is not None
    if has_histogram(ir.breakdown):
        bounds = (await execute.fetch_all(connection, trends_sql.histogram_statement(ir, series, ctx, rng)))[
            0
        ]
        bins: list[Bins | None] = []
        position = 0
        for item in ir.breakdown.items:
            if item.histogram_bin_count:
                low, high = bounds[position], bounds[position + 1]
                position += 2
                bins.append(Bins(float(low or 0), float(high or 0), item.histogram_bin_count))
            else:
                bins.append(None)
        return BreakdownPlan(top=None, has_more=False, bins=tuple(bins))
    rows = await execute.fetch_all(connection, trends_sql.top_values_statement(ir, series, ctx, rng))
    width = len(ir.breakdown.items)
    values = [tuple(str(v) for v in row[:width]) for row in rows]
    limit = ir.breakdown.limit
    return BreakdownPlan(top=tuple(values[:limit]), has_more=len(values) > limit, bins=(None,) * width)


def _key(row: Sequence[Any], start: int, width: int, plan: BreakdownPlan | None) -> Key:
    values = [str(v) for v in row[start : start + width]]
    if plan is not None:
        values = [bins.relabel(v) if bins else v for v, bins in zip(values, plan.bins, strict=True)]
    return tuple(values)


async def compute(connection: AsyncConnection, plan: Plan) -> tuple[list[SeriesResult], bool]:
    ir, ctx = plan.ir, plan.ctx
    periods: list[tuple[str | None, ResolvedRange]] = [(None, plan.range)]
    if ir.compare is not None:
        periods = [("current", plan.range), ("previous", plan.range.shifted(ir.compare.compare_to))]
    results, has_more = [], False
    width = len(ir.breakdown.items) if ir.breakdown else 0
    for series in ir.series:
        for period, rng in periods:
            breakdown_plan: BreakdownPlan | None = None
            if ir.breakdown and trends_sql.merges_breakdown_in_one_pass(ir, series):
                statement = trends_sql.one_pass_breakdown_statement(ir, series, ctx, rng)
                rows = await execute.fetch_all(connection, statement)
                has_more = has_more or any(row.values_found > ir.breakdown.limit for row in rows[:1])
            else:
                breakdown_plan = await discover(connection, ir, series, ctx, rng) if ir.breakdown else None
                has_more = has_more or bool(breakdown_plan and breakdown_plan.has_more)
                statement = trends_sql.series_statement(ir, series, ctx, rng, breakdown_plan)
                rows = await execute.fetch_all(connection, statement)
            points: dict[Key, dict[datetime | None, float]] = {} if ir.breakdown else {(): {}}
            offset = 0 if ir.aggregated else 1
            for row in rows:
                key = _key(row, offset, width, breakdown_plan)
                when = None if ir.aggregated else row[0]
                points.setdefault(key, {})[when] = shaping.number(row[-1]) * (series.math_multiplier or 1)
            results.append(SeriesResult(series, period, rng, rng.buckets(), points))
    return results, has_more


def _finish(data: list[float], ir: QueryIR) -> tuple[list[float], float]:
    data = shaping.smooth(data, ir.smoothing_intervals)
    if ir.display == "ActionsLineGraphCumulative":
        data = shaping.cumulative(data)
        return data, data[-1] if data else 0.0
    return data, sum(data)


def _item(
    ir: QueryIR,
    result: SeriesResult,
    key: Key,
    data: list[float],
    aggregated_value: float | None,
    *,
    label: str,
    action: dict[str, Any] | None,
) -> dict[str, Any]:
    days = shaping.days(result.buckets, ir.interval)
    item: dict[str, Any] = {
        "data": [] if ir.aggregated else data,
        "labels": []
        if ir.aggregated
        else shaping.labels(result.buckets, ir.interval, compare=ir.compare is not None),
        "days": [] if ir.aggregated else days,
        "count": 0.0,
        "label": label,
        "filter": {},
        "action": action,
    }
    if ir.aggregated:
        item["aggregated_value"] = aggregated_value or 0.0
    else:
        item["data"], item["count"] = _finish(data, ir)
    if ir.breakdown is not None:
        value: Any = list(key) if ir.breakdown.multi else key[0]
        item["breakdown_value"] = value
        item["label"] = f"{label} - {'::'.join(key)}"
    if result.period is not None:
        item["compare"], item["compare_label"] = True, result.period
    return item


def _raw(result: SeriesResult, key: Key, aggregated: bool) -> tuple[list[float], float | None]:
    per_bucket = result.points.get(key, {})
    if aggregated:
        return [], per_bucket.get(None, 0.0)
    return [per_bucket.get(b, 0.0) for b in result.buckets], None


def _sort_key(item: dict[str, Any]) -> tuple[bool, float, str]:
    value = item.get("breakdown_value")
    is_other = value == OTHER or (isinstance(value, list) and OTHER in value)
    size = item.get("aggregated_value", item["count"])
    return is_other, -size, str(value)


def series_items(ir: QueryIR, results: list[SeriesResult]) -> list[dict[str, Any]]:
    items = []
    for result in results:
        batch = []
        for key in result.points:
            data, aggregated_value = _raw(result, key, ir.aggregated)
            item = _item(
                ir,
                result,
                key,
                data,
                aggregated_value,
                label=result.series.label,
                action=shaping.action(result.series, shaping.days(result.buckets, ir.interval)),
            )
            empty = not item.get("aggregated_value") and not any(item["data"])
            if ir.breakdown is not None and empty:
                continue  # PostHog drops breakdown values without any data
            batch.append(item)
        if ir.breakdown is not None:
            batch.sort(key=_sort_key)
        items.extend(batch)
    return items


def formula_items(ir: QueryIR, results: list[SeriesResult]) -> list[dict[str, Any]]:
    items = []
    periods = list(dict.fromkeys(r.period for r in results))
    for formula in ir.formulas:
        for period in periods:
            in_period = [r for r in results if r.period == period]
            keys = list(dict.fromkeys(k for r in in_period for k in r.points))
            batch = []
            for key in keys:
                raw = {formulas.letter(r.series.order): _raw(r, key, ir.aggregated) for r in in_period}
                if ir.aggregated:
                    value = formulas.evaluate(formula.formula, {k: [v[1] or 0.0] for k, v in raw.items()}, 1)[
                        0
                    ]
                    data: list[float] = []
                else:
                    value = None
                    data = formulas.evaluate(
                        formula.formula, {k: v[0] for k, v in raw.items()}, len(in_period[0].buckets)
                    )
                label = formula.custom_name or formula.formula
                batch.append(_item(ir, in_period[0], key, data, value, label=label, action=None))
            if ir.breakdown is not None:
                batch.sort(key=_sort_key)
            items.extend(batch)
    return items


async def run(connection: AsyncConnection, plan: Plan) -> dict[str, Any]:
    results, has_more = await compute(connection, plan)
    items = formula_items(plan.ir, results) if plan.ir.formulas else series_items(plan.ir, results)
    return {"results": items, "hasMore": has_more}
