"""Breakdowns: raw value expressions, the top-values query, and the mapping of everything else into
PostHog's `$$_posthog_breakdown_other_$$` / `$$_posthog_breakdown_null_$$` buckets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    String,
    Subquery,
    Text,
    any_,
    case,
    cast,
    func,
    literal,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY

from app.query.ir import Breakdown, BreakdownItem
from app.query.sql import numeric, prop_text

OTHER = "$$_posthog_breakdown_other_$$"
NULL = "$$_posthog_breakdown_null_$$"
HISTOGRAM_NULL = '["",""]'


def column_name(index: int) -> str:
    return f"bv{index}"


def raw_expression(item: BreakdownItem) -> ColumnElement[Any]:
    if item.histogram_bin_count:
        return numeric(item.type, item.property)
    value: ColumnElement[Any] = func.nullif(prop_text(item.type, item.property), literal("", String))
    if item.normalize_url:
        # As PostHog: trailing `/`, `?` and `#` go, but a URL that is nothing else stays "/".
        trimmed = func.rtrim(value, literal("/?#", String))
        value = case((trimmed == literal("", String), literal("/", String)), else_=trimmed)
    return func.coalesce(value, literal(NULL, String))


def raw_columns(breakdown: Breakdown | None) -> dict[str, ColumnElement[Any]]:
    if breakdown is None:
        return {}
    return {column_name(i): raw_expression(item) for i, item in enumerate(breakdown.items)}


def has_histogram(breakdown: Breakdown) -> bool:
    return any(item.histogram_bin_count for item in breakdown.items)


def top_values_query(rows: Subquery, breakdown: Breakdown) -> Select[Any]:
    """The most frequent value combinations, one more than the limit (to know `hasMore`)."""
    columns = [rows.c[column_name(i)] for i in range(len(breakdown.items))]
    count = func.count().label("n")
    return (
        select(*columns, count).group_by(*columns).order_by(count.desc(), *columns).limit(breakdown.limit + 1)
    )


def histogram_bounds_query(rows: Subquery, breakdown: Breakdown) -> Select[Any]:
    columns = []
    for i, item in enumerate(breakdown.items):
        if item.histogram_bin_count:
            columns += [func.min(rows.c[column_name(i)]), func.max(rows.c[column_name(i)])]
    return select(*columns)


@dataclass(frozen=True, slots=True)
class Bins:
    low: float
    high: float
    count: int

    @property
    def width(self) -> float:
        return (self.high - self.low) / self.count if self.high > self.low else 0.0

    def label(self, index: int) -> str:
        lower = self.low + (index - 1) * self.width
        upper = self.high if index == self.count else self.low + index * self.width
        return f"[{round(lower, 2)},{round(upper, 2)}]"

    def expression(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        as_float = cast(value, Float)
        index: ColumnElement[Any]
        if self.high > self.low:
            index = func.least(
                func.width_bucket(as_float, literal(self.low), literal(self.high), literal(self.count)),
                literal(self.count),
            )
        else:
            index = literal(1)
        return case((value.is_(None), literal(HISTOGRAM_NULL, String)), else_=cast(index, Text))

    def relabel(self, raw: str) -> str:
        return raw if raw == HISTOGRAM_NULL else self.label(int(raw))


@dataclass(frozen=True, slots=True)
class BreakdownPlan:
    """What the discovery step found: the kept values and histogram bins per item."""

    top: tuple[tuple[str, ...], ...] | None  # None: keep every value (histograms)
    has_more: bool
    bins: tuple[Bins | None, ...]


def mapped_columns(rows: Subquery, breakdown: Breakdown, plan: BreakdownPlan) -> list[ColumnElement[Any]]:
    """Breakdown columns of the final query: histogram labels, or kept values / other."""
    raw = [rows.c[column_name(i)] for i in range(len(breakdown.items))]
    if plan.top is None:
        return [
            (bins.expression(column) if bins else column).label(column_name(i))
            for i, (column, bins) in enumerate(zip(raw, plan.bins, strict=True))
        ]
    if len(raw) == 1:
        kept = column_is_kept(raw, plan.top)
        return [case((kept, raw[0]), else_=literal(OTHER, String)).label(column_name(0))]
    kept = column_is_kept(raw, plan.top)
    return [
        case((kept, column), else_=literal(OTHER, String)).label(column_name(i))
        for i, column in enumerate(raw)
    ]


def column_is_kept(
    raw: Sequence[ColumnElement[Any]], top: tuple[tuple[str, ...], ...]
) -> ColumnElement[bool]:
    if not top:
        return literal(False)
    if len(raw) == 1:
        return raw[0] == any_(literal([t[0] for t in top], ARRAY(Text)))
    return tuple_(*raw).in_([tuple(t) for t in top])
