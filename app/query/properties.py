"""Property filters → boolean SQL expressions (event, person and element filters, AND/OR groups).

Negative operators (`is_not`, `not_icontains`, `not_regex`, `not_between`, `not_in`) also match events
where the property is missing, as PostHog's `ifNull(..., 1)` does. Values are always bound.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    DateTime,
    String,
    Text,
    and_,
    any_,
    false,
    func,
    literal,
    not_,
    or_,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from app.query import elements
from app.query.dates import localize, zone
from app.query.ir import PropertyFilter, PropertyGroup
from app.query.sql import numeric, prop_text

NEGATIVE = frozenset({"is_not", "not_icontains", "not_regex", "not_between", "not_in"})


def like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def as_text(value: object) -> str:
    """How a filter value compares with a property's JSON text (`->>`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _text_values(value: object) -> list[str]:
    items = value if isinstance(value, tuple) else (value,)
    return [as_text(v) for v in items]


def _positive(filter_: PropertyFilter, timezone: str) -> ColumnElement[bool]:
    """The filter without negation (NULL-producing for missing properties)."""
    source, key, operator, value = filter_.type, filter_.key, filter_.operator, filter_.value
    column = prop_text(source, key)
    if operator in ("exact", "is_not", "in", "not_in"):
        values = _text_values(value)
        if len(values) == 1:
            return column == literal(values[0], String)
        return column == any_(literal(values, ARRAY(Text)))
    if operator in ("icontains", "not_icontains"):
        return column.ilike(literal(f"%{like_escape(str(value))}%", String), escape="\\")
    if operator in ("regex", "not_regex"):
        return column.bool_op("~")(literal(str(value), String))
    if operator in ("gt", "gte", "lt", "lte", "min", "max"):
        number = numeric(source, key)
        bound = literal(value)
        return {
            "gt": number > bound,
            "gte": number >= bound,
            "min": number >= bound,
            "lt": number < bound,
            "lte": number <= bound,
            "max": number <= bound,
        }[operator]
    if operator in ("between", "not_between"):
        assert isinstance(value, tuple)
        number = numeric(source, key)
        return and_(number >= literal(value[0]), number <= literal(value[1]))
    if operator in ("is_date_exact", "is_date_before", "is_date_after"):
        return _date_filter(column, operator, str(value), timezone)
    raise AssertionError(operator)


def _date_filter(column: ColumnElement[str], operator: str, value: str, timezone: str) -> ColumnElement[bool]:
    when = func.analytics_try_timestamptz(column, literal(timezone, String))
    parsed = datetime.fromisoformat(value)
    tz = zone(timezone)
    moment = parsed.astimezone(tz) if parsed.tzinfo else localize(parsed, tz)
    bound = literal(moment, DateTime(timezone=True))
    if operator == "is_date_before":
        return when < bound
    if operator == "is_date_after":
        return when > bound
    if len(value) == 10:  # a date: the whole local day
        local_day = func.date_trunc("day", func.timezone(literal(timezone, String), when))
        return local_day == literal(parsed.replace(tzinfo=None), DateTime())
    return when == bound


def property_condition(filter_: PropertyFilter, timezone: str) -> ColumnElement[bool]:
    if filter_.type == "element":
        return elements.element_condition(filter_)
    if filter_.operator == "is_set":
        return prop_text(filter_.type, filter_.key).is_not(None)
    if filter_.operator == "is_not_set":
        return prop_text(filter_.type, filter_.key).is_(None)
    positive = _positive(filter_, timezone)
    if filter_.operator in NEGATIVE:
        return func.coalesce(not_(positive), true())
    return func.coalesce(positive, false())


def group_condition(group: PropertyGroup, timezone: str) -> ColumnElement[bool] | None:
    """None when the group has no filters at all."""
    parts = []
    for value in group.values:
        part = (
            group_condition(value, timezone)
            if isinstance(value, PropertyGroup)
            else property_condition(value, timezone)
        )
        if part is not None:
            parts.append(part)
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return and_(*parts) if group.type == "AND" else or_(*parts)


def uses_persons(group: PropertyGroup) -> bool:
    return any(uses_persons(v) if isinstance(v, PropertyGroup) else v.type == "person" for v in group.values)
