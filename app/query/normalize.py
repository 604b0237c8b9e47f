"""Normalize: generated query node → frozen `QueryIR`. All defaulting and validation happen here.

Anything we don't support raises a 400 naming the field, so later stages never see surprises.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, cast

import pydantic

from app.errors import ValidationError
from app.query import formulas as formula_parser
from app.query.ir import (
    EMPTY_GROUP,
    Breakdown,
    BreakdownItem,
    Compare,
    DateRangeSpec,
    FilterValue,
    Formula,
    Interval,
    PropertyFilter,
    PropertyGroup,
    QueryIR,
    ScalarValue,
    Series,
    StickinessCriteria,
)
from app.query.parse import InsightNode, QueryNode, validation_error
from app.schemas.generated import query as schema

MAX_LIST_VALUES = 10_000
MAX_STRING = 65_535
MAX_GROUP_DEPTH = 5  # the top-level group plus three levels of nested groups
DEFAULT_BREAKDOWN_LIMIT = 25
PROPERTY_MATH = frozenset({"sum", "avg", "min", "max", "median", "p75", "p90", "p95", "p99"})
ACTOR_MATH = frozenset(
    {
        "dau",
        "weekly_active",
        "monthly_active",
        "unique_session",
        "first_time_for_user",
        "first_matching_event_for_user",
    }
)
COUNT_PER_ACTOR_MATH = frozenset(
    f"{agg}_count_per_actor" for agg in ("avg", "min", "max", "median", "p75", "p90", "p95", "p99")
)
SUPPORTED_MATH = frozenset({"total"}) | PROPERTY_MATH | ACTOR_MATH | COUNT_PER_ACTOR_MATH
LIST_OPERATORS = frozenset({"exact", "is_not", "in", "not_in"})
TEXT_OPERATORS = frozenset({"icontains", "not_icontains", "regex", "not_regex"})
NUMERIC_OPERATORS = frozenset({"gt", "gte", "lt", "lte", "min", "max"})
DATE_OPERATORS = frozenset({"is_date_exact", "is_date_before", "is_date_after"})
RANGE_OPERATORS = frozenset({"between", "not_between"})
SET_OPERATORS = frozenset({"is_set", "is_not_set"})
ELEMENT_OPERATORS = {
    "tag_name": frozenset({"exact", "is_not", "in", "not_in"}),
    "selector": frozenset({"exact", "is_not", "in", "not_in"}),
    "text": LIST_OPERATORS | TEXT_OPERATORS | SET_OPERATORS,
    "href": LIST_OPERATORS | TEXT_OPERATORS | SET_OPERATORS,
}
COMPARE_TO = re.compile(r"^-(\d{1,4})([hdwmqy])$")


def _fail(detail: str, attr: str) -> ValidationError:
    return ValidationError(detail, attr=attr)


def check_text(value: str, attr: str, *, max_length: int = MAX_STRING) -> str:
    """Strings Postgres can store and compare: no NUL, no lone surrogates, bounded length."""
    if len(value) > max_length:
        raise _fail(f"Ensure this value has at most {max_length} characters.", attr)
    if "\x00" in value:
        raise _fail("Text may not contain NUL characters.", attr)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail("Text may not contain unpaired surrogates.", attr) from None
    return value


def _scalar(value: Any, attr: str) -> ScalarValue:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise _fail("Numbers must be finite.", attr)
        return float(value)
    if isinstance(value, str):
        return check_text(value, attr)
    raise _fail("Expected a string, number or boolean.", attr)


def _number(value: Any, attr: str) -> float:
    if isinstance(value, bool):
        raise _fail("A number is required.", attr)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _fail("A number is required.", attr) from None
    if not math.isfinite(number):
        raise _fail("A number is required.", attr)
    return number


def _date_value(value: Any, attr: str) -> str:
    if isinstance(value, str):
        text = value.strip()
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                return date.fromisoformat(text).isoformat()
            return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()
        except ValueError:
            pass
    raise _fail("A date or datetime (ISO 8601) is required.", attr)


def _filter_value(operator: str, value: Any, attr: str) -> FilterValue:
    if operator in SET_OPERATORS:
        return None
    if operator in LIST_OPERATORS:
        items = value if isinstance(value, list) else [value]
        if not items or any(item is None for item in items):
            raise _fail("A value is required.", attr)
        if len(items) > MAX_LIST_VALUES:
            raise _fail(f"At most {MAX_LIST_VALUES} values are allowed.", attr)
        return tuple(_scalar(item, attr) for item in items)
    if operator in RANGE_OPERATORS:
        if not isinstance(value, list) or len(value) != 2:
            raise _fail("A [min, max] pair of numbers is required.", attr)
        return (_number(value[0], attr), _number(value[1], attr))
    if isinstance(value, list):
        if len(value) != 1:
            raise _fail(f"The operator {operator!r} takes a single value.", attr)
        value = value[0]
    if operator in NUMERIC_OPERATORS:
        return _number(value, attr)
    if operator in DATE_OPERATORS:
        return _date_value(value, attr)
    if value is None:
        raise _fail("A value is required.", attr)
    return str(_scalar(value, attr)) if not isinstance(value, str) else check_text(value, attr)


def property_filter(raw: schema.AnyPropertyFilter | Any, attr: str) -> PropertyFilter:
    node = raw.root if isinstance(raw, schema.AnyPropertyFilter) else raw
    operator = node.operator.root if node.operator is not None else "exact"
    key = node.key if isinstance(node.key, str) else node.key.root
    check_text(key, f"{attr}__key", max_length=400)
    if node.type == "element" and operator not in ELEMENT_OPERATORS[key]:
        raise _fail(f"Operator {operator!r} is not supported for element {key!r}.", f"{attr}__operator")
    raw_value = node.value.root if node.value is not None else None
    value = _filter_value(operator, raw_value, f"{attr}__value")
    return PropertyFilter(type=node.type, key=key, operator=operator, value=value)


def _group_value(raw: Any, attr: str, depth: int) -> PropertyFilter | PropertyGroup:
    node = raw.root if isinstance(raw, schema.Values) else raw
    if isinstance(node, schema.PropertyGroupFilterValue):
        if depth >= MAX_GROUP_DEPTH:
            raise _fail("Property groups are nested too deeply.", attr)
        return PropertyGroup(
            node.type,
            tuple(_group_value(v, f"{attr}__values__{i}", depth + 1) for i, v in enumerate(node.values)),
        )
    return property_filter(node, attr)


def properties(raw: Any, attr: str = "properties") -> PropertyGroup:
    """A list of filters (ANDed) or a PropertyGroupFilter → one PropertyGroup."""
    node = raw.root if isinstance(raw, schema.Properties) else raw
    if node is None:
        return EMPTY_GROUP
    if isinstance(node, schema.PropertyGroupFilter):
        return PropertyGroup(
            node.type,
            tuple(_group_value(v, f"{attr}__values__{i}", 2) for i, v in enumerate(node.values)),
        )
    if len(node) > MAX_LIST_VALUES:
        raise _fail("Too many property filters.", attr)
    return PropertyGroup("AND", tuple(property_filter(f, f"{attr}__{i}") for i, f in enumerate(node)))


def properties_from_json(raw: Any, attr: str) -> PropertyGroup:
    """Property filters stored as JSON (test-account filters, dashboard filters, action steps)."""
    try:
        parsed = schema.Properties.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise validation_error(exc, raw, attr) from None
    return properties(parsed, attr)


def _series(node: schema.SeriesNode, order: int) -> Series:
    item = node.root
    attr = f"series__{order}"
    math_name = item.math.root if item.math is not None else "total"
    if math_name not in SUPPORTED_MATH:
        raise _fail(f"Math {math_name!r} is not supported.", f"{attr}__math")
    if item.math_group_type_index is not None or item.math_hogql is not None:
        raise _fail("Group and HogQL math are not supported.", f"{attr}__math")
    if math_name in PROPERTY_MATH:
        if not item.math_property:
            raise _fail("This math needs a math_property.", f"{attr}__math_property")
        check_text(item.math_property, f"{attr}__math_property", max_length=400)
    multiplier = item.math_multiplier
    if multiplier is not None and not math.isfinite(multiplier):
        raise _fail("A finite number is required.", f"{attr}__math_multiplier")
    filters = [
        property_filter(f, f"{attr}__{field}__{i}")
        for field, found in (("properties", item.properties), ("fixedProperties", item.fixed_properties))
        for i, f in enumerate(found or [])
    ]
    group = PropertyGroup("AND", tuple(filters))
    if isinstance(item, schema.EventsNode):
        if item.event is not None:
            check_text(item.event, f"{attr}__event", max_length=400)
        return Series(
            order=order,
            kind="events",
            event=item.event,
            action_id=None,
            name=item.event if item.event is not None else "All events",
            custom_name=item.custom_name,
            math=math_name,
            math_property=item.math_property if math_name in PROPERTY_MATH else None,
            math_multiplier=multiplier,
            properties=group,
        )
    return Series(
        order=order,
        kind="actions",
        event=None,
        action_id=item.id,
        name=item.name or str(item.id),
        custom_name=item.custom_name,
        math=math_name,
        math_property=item.math_property if math_name in PROPERTY_MATH else None,
        math_multiplier=multiplier,
        properties=group,
    )


def _breakdown_type(raw: Any, attr: str) -> str:
    value = raw.root if raw is not None and hasattr(raw, "root") else raw
    value = value or "event"
    if value not in ("event", "person"):
        raise _fail(f"Breakdown type {value!r} is not supported.", attr)
    return cast(str, value)


def breakdown(raw: schema.BreakdownFilter | None, attr: str = "breakdownFilter") -> Breakdown | None:
    if raw is None:
        return None
    limit = raw.breakdown_limit or DEFAULT_BREAKDOWN_LIMIT
    hide_other = bool(raw.breakdown_hide_other_aggregation)
    if raw.breakdowns:
        items = []
        for i, item in enumerate(raw.breakdowns):
            if not isinstance(item.property, str):
                raise _fail("Cohort breakdowns are not supported.", f"{attr}__breakdowns__{i}__property")
            check_text(item.property, f"{attr}__breakdowns__{i}__property", max_length=400)
            kind = _breakdown_type(item.type, f"{attr}__breakdowns__{i}__type")
            items.append(
                BreakdownItem(
                    property=item.property,
                    type=cast(Any, kind),
                    histogram_bin_count=item.histogram_bin_count,
                    normalize_url=bool(item.normalize_url),
                )
            )
        return Breakdown(items=tuple(items), limit=limit, hide_other=hide_other, multi=True)
    if raw.breakdown is None or raw.breakdown == "":
        return None
    if not isinstance(raw.breakdown, str):
        raise _fail("Cohort breakdowns are not supported.", f"{attr}__breakdown")
    check_text(raw.breakdown, f"{attr}__breakdown", max_length=400)
    kind = _breakdown_type(raw.breakdown_type, f"{attr}__breakdown_type")
    single = BreakdownItem(
        property=raw.breakdown,
        type=cast(Any, kind),
        histogram_bin_count=raw.breakdown_histogram_bin_count,
        normalize_url=bool(raw.breakdown_normalize_url),
    )
    return Breakdown(items=(single,), limit=limit, hide_other=hide_other, multi=False)


def compare(raw: schema.CompareFilter | None, attr: str = "compareFilter") -> Compare | None:
    if raw is None or not raw.compare:
        return None
    if raw.compare_to is not None and not COMPARE_TO.match(raw.compare_to):
        raise _fail("compare_to must look like -1w, -7d or -1m.", f"{attr}__compare_to")
    return Compare(compare_to=raw.compare_to)


def date_range(raw: schema.DateRange | None) -> DateRangeSpec:
    if raw is None:
        return DateRangeSpec()
    return DateRangeSpec(date_from=raw.date_from, date_to=raw.date_to, explicit=bool(raw.explicit_date))


def _formulas(raw: schema.TrendsFilter | None, series_count: int) -> tuple[Formula, ...]:
    if raw is None:
        return ()
    found: list[tuple[Formula, str]] = []
    if raw.formula_nodes:
        found = [
            (Formula(n.formula, n.custom_name), f"trendsFilter__formulaNodes__{i}__formula")
            for i, n in enumerate(raw.formula_nodes)
        ]
    elif raw.formulas:
        found = [(Formula(f), f"trendsFilter__formulas__{i}") for i, f in enumerate(raw.formulas)]
    elif raw.formula:
        found = [(Formula(raw.formula), "trendsFilter__formula")]
    result = []
    for formula, attr in found:
        if not formula.formula.strip():
            continue
        check_text(formula.formula, attr, max_length=1000)
        formula_parser.validate(formula.formula, series_count, attr)
        result.append(formula)
    return tuple(result)


def _common(node: InsightNode) -> dict[str, Any]:
    if node.aggregation_group_type_index is not None:
        raise _fail("Aggregating by groups is not supported.", "aggregation_group_type_index")
    series_nodes: Sequence[schema.SeriesNode] = getattr(node, "series", [])
    raw_interval = getattr(node, "interval", None)
    interval = cast(Interval, raw_interval.root if raw_interval is not None else "day")
    return {
        "kind": node.kind,
        "series": tuple(_series(s, i) for i, s in enumerate(series_nodes)),
        "interval": interval,
        "date_range": date_range(node.date_range),
        "properties": properties(node.properties),
        "filter_test_accounts": bool(node.filter_test_accounts),
    }


def normalize(node: QueryNode) -> QueryIR:
    from app.query import normalize_kinds  # it builds on this module

    if isinstance(node, schema.FunnelCorrelationQuery):
        return normalize_kinds.correlation(node, normalize)
    common = _common(node)
    if isinstance(node, schema.TrendsQuery):
        trends = node.trends_filter
        display = (
            trends.display.root if trends is not None and trends.display is not None else "ActionsLineGraph"
        )
        return QueryIR(
            **common,
            compare=compare(node.compare_filter),
            breakdown=breakdown(node.breakdown_filter),
            display=display,
            formulas=_formulas(trends, len(common["series"])),
            smoothing_intervals=(trends.smoothing_intervals or 1) if trends else 1,
        )
    if isinstance(node, schema.StickinessQuery):
        sticky = node.stickiness_filter
        criteria = sticky.stickiness_criteria if sticky else None
        return QueryIR(
            **common,
            compare=compare(node.compare_filter),
            interval_count=node.interval_count,
            cumulative=bool(sticky and sticky.computed_as == "cumulative"),
            criteria=StickinessCriteria(criteria.operator, criteria.value) if criteria else None,
        )
    if isinstance(node, schema.LifecycleQuery):
        toggled = node.lifecycle_filter.toggled_lifecycles if node.lifecycle_filter else None
        return QueryIR(
            **common,
            toggled_lifecycles=tuple(t.root for t in toggled)
            if toggled
            else ("new", "returning", "resurrecting", "dormant"),
        )
    if isinstance(node, schema.FunnelsQuery):
        return normalize_kinds.funnel(node, common)
    if isinstance(node, schema.RetentionQuery):
        return normalize_kinds.retention(node, common)
    if isinstance(node, schema.PathsQuery):
        return normalize_kinds.paths(node, common)
    raise _fail(f"{node.kind} is not supported yet.", "kind")


def regexes(group: PropertyGroup) -> Iterable[tuple[str, str]]:
    """(pattern, attr-ish) of every regex filter in a group, for validation before execution."""
    for value in group.values:
        if isinstance(value, PropertyGroup):
            yield from regexes(value)
        elif value.operator in ("regex", "not_regex") and isinstance(value.value, str):
            yield value.value, value.key
