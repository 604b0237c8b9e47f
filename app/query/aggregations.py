"""Math: how a series turns matching rows into one number per group."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String, Subquery, distinct, func, literal

from app.query.source import FirstEvent

PERCENTILES = {"median": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95, "p99": 0.99}
ACTIVE_WINDOWS = {"weekly_active": 7, "monthly_active": 30}
# Which first event per person these maths count (see `source.rows`).
FIRST_EVENT_MATH: dict[str, FirstEvent] = {
    "first_time_for_user": "ever",
    "first_matching_event_for_user": "matching",
}


def _of(agg: str, value: ColumnElement[Any]) -> ColumnElement[Any]:
    if agg in PERCENTILES:
        return func.percentile_cont(literal(PERCENTILES[agg])).within_group(value)
    if agg == "sum":
        return func.sum(value)
    if agg == "avg":
        return func.avg(value)
    return func.min(value) if agg == "min" else func.max(value)


def is_count_per_actor(math: str) -> bool:
    return math.endswith("_count_per_actor")


def row_aggregate(math: str, rows: Subquery) -> ColumnElement[Any]:
    """The aggregate over `rows` for every math except count-per-actor (see `per_actor_aggregate`)."""
    if math == "total" or math in FIRST_EVENT_MATH:
        return func.count()
    if math in ("dau", "weekly_active", "monthly_active"):
        return func.count(distinct(rows.c.person_id))
    if math == "unique_session":
        return func.count(distinct(func.nullif(rows.c.session_id, literal("", String))))
    return _of(math, rows.c.num)


def per_actor_aggregate(math: str, counts: ColumnElement[Any]) -> ColumnElement[Any]:
    return _of(math.removesuffix("_count_per_actor"), counts)
