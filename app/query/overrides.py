"""Dashboard filters applied to a query (pure: IR + filters → IR), as PostHog's apply_dashboard_filters.

- `date_from` / `date_to` / `explicitDate` replace the query's date range when set;
- `properties` are AND-ed with the query's own;
- `breakdown_filter` replaces the breakdown (trends only); `interval` and `filterTestAccounts` replace theirs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, cast

import pydantic

from app.errors import ValidationError
from app.query import normalize
from app.query.ir import DateRangeSpec, Interval, PropertyGroup, QueryIR
from app.query.parse import validation_error
from app.schemas.generated import query as schema

ATTR = "filters_override"
INTERVALS = ("minute", "hour", "day", "week", "month")


def _string(filters: Mapping[str, Any], key: str) -> str | None:
    value = filters.get(key)
    if value is not None and not isinstance(value, str):
        raise ValidationError("Expected a string.", attr=f"{ATTR}__{key}")
    return normalize.check_text(value, f"{ATTR}__{key}", max_length=100) if value else None


def apply(ir: QueryIR, filters: Mapping[str, Any] | None) -> QueryIR:
    if not filters:
        return ir
    if not isinstance(filters, Mapping):
        raise ValidationError("Expected an object.", attr=ATTR)
    changes: dict[str, Any] = {}
    date_from, date_to = _string(filters, "date_from"), _string(filters, "date_to")
    if date_from or date_to:
        changes["date_range"] = DateRangeSpec(
            date_from=date_from or ir.date_range.date_from,
            date_to=date_to if date_from or date_to else ir.date_range.date_to,
            explicit=bool(filters.get("explicitDate", ir.date_range.explicit)),
        )
    if filters.get("properties"):
        extra = normalize.properties_from_json(filters["properties"], f"{ATTR}__properties")
        changes["properties"] = PropertyGroup("AND", (ir.properties, extra))
    if (raw_breakdown := filters.get("breakdown_filter")) and ir.kind == "TrendsQuery":
        try:
            parsed = schema.BreakdownFilter.model_validate(raw_breakdown)
        except pydantic.ValidationError as exc:
            raise validation_error(exc, raw_breakdown, f"{ATTR}__breakdown_filter") from None
        changes["breakdown"] = normalize.breakdown(parsed, f"{ATTR}__breakdown_filter")
    if (interval := filters.get("interval")) is not None:
        if interval not in INTERVALS:
            raise ValidationError("Invalid interval.", attr=f"{ATTR}__interval")
        changes["interval"] = cast(Interval, interval)
    if (test_accounts := filters.get("filterTestAccounts")) is not None:
        if not isinstance(test_accounts, bool):
            raise ValidationError("Expected a boolean.", attr=f"{ATTR}__filterTestAccounts")
        changes["filter_test_accounts"] = test_accounts
    return dataclasses.replace(ir, **changes)
