"""Legacy insight `filters` (PostHog's pre-query-node format) → a query node dict.

    node = filters_to_query(insight.filters)   # {"kind": "FunnelsQuery", "series": [...], ...}
    parse_query(node)                         # then validated like any other query

Pure, and as tolerant as PostHog's own converter: values may arrive as strings (GET parameters,
JSON-encoded fields, "true"/"false"), `insight` defaults to TRENDS (SESSIONS too), old-style
`{"key__operator": value}` properties are expanded, unknown `display` values are dropped. What
cannot be interpreted at all raises a 400 `ValidationError` naming the legacy field. Fields the
engine doesn't support (groups, HogQL) are passed through so that normalization rejects them with
a precise message instead of silently computing something else.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from app.errors import ValidationError

KINDS = {
    "TRENDS": "TrendsQuery",
    "SESSIONS": "TrendsQuery",
    "FUNNELS": "FunnelsQuery",
    "RETENTION": "RetentionQuery",
    "PATHS": "PathsQuery",
    "STICKINESS": "StickinessQuery",
    "LIFECYCLE": "LifecycleQuery",
}
DISPLAYS = frozenset(
    {
        "ActionsLineGraph",
        "ActionsBar",
        "ActionsStackedBar",
        "ActionsAreaGraph",
        "ActionsLineGraphCumulative",
        "BoldNumber",
        "ActionsPie",
        "ActionsBarValue",
        "ActionsTable",
        "WorldMap",
        "CalendarHeatmap",
    }
)
ACTOR_MATH = frozenset({"dau", "weekly_active", "monthly_active", "unique_group", "hogql"})
PROPERTY_KEYS = ("key", "value", "operator", "type", "label")
NO_OPERATOR_TYPES = frozenset({"cohort", "hogql"})
TRUE, FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no", ""})
Json = dict[str, Any]


def _fail(detail: str, attr: str) -> ValidationError:
    return ValidationError(detail, attr=attr)


def _decoded(value: Any, attr: str, *, detail: str = "Expected JSON.") -> Any:
    """A JSON-encoded string (as GET parameters carry lists and objects) → its value."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise _fail(detail, attr) from None


def _list(value: Any, attr: str) -> list[Any]:
    value = _decoded(value, attr)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail("Expected a list.", attr)
    return value


def _object(value: Any, attr: str) -> Mapping[str, Any] | None:
    value = _decoded(value, attr)
    if value is None or isinstance(value, Mapping):
        return value
    raise _fail("Expected an object.", attr)


def _bool(value: Any, attr: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise _fail("Expected a boolean.", attr)


def _int(value: Any, attr: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise _fail("A valid integer is required.", attr)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) < 19:
        return int(value.strip())
    raise _fail("A valid integer is required.", attr)


def _number(value: Any, attr: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise _fail("A valid number is required.", attr)
    return number


def _str(value: Any, attr: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _fail("Expected a string.", attr)


def _lower(value: Any, attr: str) -> str | None:
    text = _str(value, attr)
    return text.strip().lower() if text else None


def _compact(values: Mapping[str, Any]) -> Json:
    return {key: value for key, value in values.items() if value is not None}


# --- properties ----------------------------------------------------------------------------------


def _clean_property(raw: Any, attr: str) -> Json:
    if not isinstance(raw, Mapping):
        raise _fail("Expected a property filter object.", attr)
    prop = dict(raw)
    if prop.get("type") in (None, "events"):
        prop["type"] = "event"
    if prop.get("type") in ("precalculated-cohort", "static-cohort"):
        prop["type"] = "cohort"
    if prop.get("value") is None and prop.get("values") is not None:
        prop["value"] = prop["values"]
    if prop["type"] not in NO_OPERATOR_TYPES and prop.get("operator") is None:
        prop["operator"] = "exact"
    if isinstance(prop.get("value"), list):
        prop["value"] = [v for v in prop["value"] if v is not None]
    return _compact({key: prop.get(key) for key in PROPERTY_KEYS})


def _old_style(raw: Mapping[str, Any]) -> list[Json]:
    """`{"utm_medium__icontains": "email"}` → event property filters."""
    filters = []
    for key, value in raw.items():
        name, _, operator = str(key).partition("__")
        filters.append({"key": name, "value": value, "operator": operator or "exact", "type": "event"})
    return filters


def _is_group(raw: Any) -> bool:
    return isinstance(raw, Mapping) and raw.get("type") in ("AND", "OR")


def _clean_group(raw: Mapping[str, Any], attr: str) -> Json:
    values = _list(raw.get("values"), f"{attr}__values")
    return {
        "type": raw["type"],
        "values": [
            _clean_group(v, f"{attr}__values__{i}")
            if _is_group(v)
            else _clean_property(v, f"{attr}__values__{i}")
            for i, v in enumerate(values)
        ],
    }


def global_properties(raw: Any, attr: str = "properties") -> list[Json] | Json | None:
    """A filter list, an old-style dict, a group, or a group of groups."""
    value = _decoded(raw, attr, detail="Properties are unparsable!")
    if not value:
        return None
    if isinstance(value, list):
        return [_clean_property(v, f"{attr}__{i}") for i, v in enumerate(value)]
    if not isinstance(value, Mapping):
        raise _fail("Properties are unparsable!", attr)
    if not _is_group(value):
        return _old_style(value)
    group = _clean_group(value, attr)
    if not any(_is_group(v) for v in group["values"]):
        return {"type": "AND", "values": [group]}  # a flat group: PropertyGroupFilter wants groups of groups
    if not all(_is_group(v) for v in group["values"]):
        raise _fail("A property group may not mix groups and filters.", attr)
    return group


def entity_properties(raw: Any, attr: str) -> list[Json] | None:
    value = _decoded(raw, attr, detail="Properties are unparsable!")
    if not value:
        return None
    if isinstance(value, list):
        return [_clean_property(v, f"{attr}__{i}") for i, v in enumerate(value)]
    if isinstance(value, Mapping) and not _is_group(value):
        return _old_style(value)
    if _is_group(value) and not any(_is_group(v) for v in _list(value.get("values"), attr)):
        return _clean_group(value, attr)["values"]  # type: ignore[no-any-return]
    raise _fail("Unexpected format of entity properties.", attr)


# --- entities ------------------------------------------------------------------------------------


def _node(raw: Any, attr: str, *, kind: str | None = None) -> Json:
    """A legacy entity (`{"id", "type", "name", "properties", ...}`) → an EventsNode or ActionsNode."""
    entity = _object(raw, attr)
    if entity is None:
        raise _fail("Expected an entity object.", attr)
    kind = kind or ("actions" if entity.get("type") == "actions" else "events")
    common = {
        "name": _str(entity.get("name"), f"{attr}__name"),
        "custom_name": _str(entity.get("custom_name"), f"{attr}__custom_name"),
        "properties": entity_properties(entity.get("properties"), f"{attr}__properties"),
    }
    if kind == "actions":
        action_id = _int(entity.get("id"), f"{attr}__id")
        if action_id is None:
            raise _fail("An action id is required.", f"{attr}__id")
        return _compact({"kind": "ActionsNode", "id": action_id, **common})
    return _compact({"kind": "EventsNode", "event": _str(entity.get("id"), f"{attr}__id"), **common})


def _math(entity: Mapping[str, Any], insight: str, attr: str) -> Json:
    if insight not in ("TRENDS", "STICKINESS") or entity.get("math") in (None, ""):
        return {}
    math_name = _str(entity.get("math"), f"{attr}__math")
    if insight == "STICKINESS":
        return {"math": math_name if math_name in ACTOR_MATH else "dau"}
    return _compact(
        {
            "math": math_name,
            "math_property": _str(entity.get("math_property"), f"{attr}__math_property"),
            "math_hogql": _str(entity.get("math_hogql"), f"{attr}__math_hogql"),
            "math_group_type_index": _int(
                entity.get("math_group_type_index"), f"{attr}__math_group_type_index"
            ),
            "math_multiplier": _number(entity.get("math_multiplier"), f"{attr}__math_multiplier"),
        }
    )


def series(filters: Mapping[str, Any], insight: str) -> list[Json]:
    """`actions` and `events` merged and ordered by their `order` (as PostHog orders them)."""
    entities: list[tuple[str, Any, str]] = []
    for key in ("actions", "events"):
        for i, raw in enumerate(_list(filters.get(key), key)):
            if isinstance(raw, str):
                continue  # PostHog skips template placeholders stored as strings
            entities.append((key, raw, f"{key}__{i}"))
    nodes = []
    for key, raw, attr in entities:
        if not isinstance(raw, Mapping):
            raise _fail("Expected an entity object.", attr)
        order = _int(raw.get("order"), f"{attr}__order")
        node = {**_node(raw, attr, kind=key), **_math(raw, insight, attr)}
        nodes.append((order if order else -1, node))
    nodes.sort(key=lambda pair: pair[0])
    return [node for _, node in nodes]


# --- per-insight pieces --------------------------------------------------------------------------


def _date_range(filters: Mapping[str, Any]) -> Json:
    date_range = _compact(
        {
            "date_from": _str(filters.get("date_from"), "date_from"),
            "date_to": _str(filters.get("date_to"), "date_to"),
            "explicitDate": _bool(filters.get("explicit_date"), "explicit_date") or None,
        }
    )
    return {"dateRange": date_range} if date_range else {}


def _breakdown_filter(filters: Mapping[str, Any], insight: str) -> Json:
    breakdown_type = _lower(filters.get("breakdown_type"), "breakdown_type")
    breakdown = filters.get("breakdown")
    if breakdown_type == "undefined" and not isinstance(breakdown, str):
        return {}
    if breakdown_type == "events":
        breakdown_type = "event"
    if breakdown_type == "cohort":
        breakdown = _decoded(breakdown, "breakdown")
    if isinstance(breakdown, list):
        breakdown = [b for b in breakdown if b is not None]
    result: Json = {}
    raw_breakdowns = _list(filters.get("breakdowns"), "breakdowns")
    if len(raw_breakdowns) == 1 and isinstance(raw_breakdowns[0], Mapping):
        breakdown = raw_breakdowns[0].get("property")
        breakdown_type = _lower(raw_breakdowns[0].get("type"), "breakdowns__0__type")
    elif raw_breakdowns:
        result["breakdowns"] = [
            _compact(
                {
                    "property": item.get("property"),
                    "type": _lower(item.get("type"), f"breakdowns__{i}__type"),
                    "normalize_url": _bool(item.get("normalize_url"), f"breakdowns__{i}__normalize_url"),
                }
            )
            if isinstance(item, Mapping)
            else item
            for i, item in enumerate(raw_breakdowns)
        ]
    if breakdown not in (None, "", []):
        result["breakdown"] = breakdown
        result["breakdown_type"] = breakdown_type or "event"
    result.update(
        _compact(
            {
                "breakdown_limit": _int(filters.get("breakdown_limit"), "breakdown_limit"),
                "breakdown_normalize_url": _bool(
                    filters.get("breakdown_normalize_url"), "breakdown_normalize_url"
                ),
                "breakdown_hide_other_aggregation": _bool(
                    filters.get("breakdown_hide_other_aggregation"), "breakdown_hide_other_aggregation"
                ),
                "breakdown_histogram_bin_count": _int(
                    filters.get("breakdown_histogram_bin_count"), "breakdown_histogram_bin_count"
                )
                if insight == "TRENDS"
                else None,
            }
        )
    )
    return {"breakdownFilter": result} if "breakdown" in result or "breakdowns" in result else {}


def _compare_filter(filters: Mapping[str, Any]) -> Json:
    if not _bool(filters.get("compare"), "compare"):
        return {}
    return {
        "compareFilter": _compact(
            {"compare": True, "compare_to": _str(filters.get("compare_to"), "compare_to")}
        )
    }


def _display(filters: Mapping[str, Any]) -> str | None:
    display = filters.get("display")
    return display if isinstance(display, str) and display in DISPLAYS else None


def _trends_filter(filters: Mapping[str, Any]) -> Json:
    return _compact(
        {
            "display": _display(filters),
            "formula": _str(filters.get("formula"), "formula") or None,
            "smoothingIntervals": _int(filters.get("smoothing_intervals"), "smoothing_intervals"),
            "showLegend": _bool(filters.get("show_legend"), "show_legend"),
            "showValuesOnSeries": _bool(filters.get("show_values_on_series"), "show_values_on_series"),
            "showPercentStackView": _bool(filters.get("show_percent_stack_view"), "show_percent_stack_view"),
            "aggregationAxisFormat": _str(filters.get("aggregation_axis_format"), "aggregation_axis_format"),
            "aggregationAxisPrefix": _str(filters.get("aggregation_axis_prefix"), "aggregation_axis_prefix"),
            "aggregationAxisPostfix": _str(
                filters.get("aggregation_axis_postfix"), "aggregation_axis_postfix"
            ),
            "decimalPlaces": _number(filters.get("decimal_places"), "decimal_places"),
        }
    )


def _window_unit(filters: Mapping[str, Any]) -> str | None:
    for key in ("funnel_window_interval_unit", "funnel_window_interval_type"):
        if (unit := _lower(filters.get(key), key)) is not None:
            return unit.removesuffix("s")  # the API docs spell "days"
    return None


def _exclusion(raw: Any, attr: str) -> Json:
    entity = _object(raw, attr) or {}
    return {
        **_node(raw, attr),
        "funnelFromStep": _int(entity.get("funnel_from_step"), f"{attr}__funnel_from_step"),
        "funnelToStep": _int(entity.get("funnel_to_step"), f"{attr}__funnel_to_step"),
    }


def _funnels_filter(filters: Mapping[str, Any]) -> Json:
    viz = _lower(filters.get("funnel_viz_type"), "funnel_viz_type")
    if viz is None and filters.get("display") == "ActionsLineGraph":
        viz = "trends"  # funnel trends were once signalled by the display alone
    interval = _int(filters.get("funnel_window_interval"), "funnel_window_interval")
    unit = _window_unit(filters)
    if (
        interval is None
        and (days := _int(filters.get("funnel_window_days"), "funnel_window_days")) is not None
    ):
        interval, unit = days, "day"
    bin_count = filters.get("bin_count")
    return _compact(
        {
            "funnelVizType": viz,
            "funnelOrderType": _lower(filters.get("funnel_order_type"), "funnel_order_type"),
            "funnelWindowInterval": interval,
            "funnelWindowIntervalUnit": unit,
            "funnelFromStep": _int(filters.get("funnel_from_step"), "funnel_from_step"),
            "funnelToStep": _int(filters.get("funnel_to_step"), "funnel_to_step"),
            "funnelStepReference": _lower(filters.get("funnel_step_reference"), "funnel_step_reference"),
            "breakdownAttributionType": _lower(
                filters.get("breakdown_attribution_type"), "breakdown_attribution_type"
            ),
            "breakdownAttributionValue": _int(
                filters.get("breakdown_attribution_value"), "breakdown_attribution_value"
            ),
            "binCount": None if bin_count == "auto" else _int(bin_count, "bin_count"),
            "exclusions": [
                _exclusion(raw, f"exclusions__{i}")
                for i, raw in enumerate(_list(filters.get("exclusions"), "exclusions"))
            ]
            or None,
            "layout": _lower(filters.get("layout"), "layout"),
            "funnelAggregateByHogQL": _str(
                filters.get("funnel_aggregate_by_hogql"), "funnel_aggregate_by_hogql"
            ),
        }
    )


def _retention_entity(raw: Any, attr: str) -> Json | None:
    entity = _object(raw, attr)
    if entity is None:
        return None
    node = _node(entity, attr)
    is_action = node["kind"] == "ActionsNode"
    return _compact(
        {
            "id": node["id"] if is_action else node.get("event"),
            "type": "actions" if is_action else "events",
            "kind": node["kind"],
            "name": node.get("name"),
            "custom_name": node.get("custom_name"),
            "properties": node.get("properties"),
        }
    )


def _retention_filter(filters: Mapping[str, Any]) -> Json:
    period = _lower(filters.get("period"), "period")
    return _compact(
        {
            "retentionType": _lower(filters.get("retention_type"), "retention_type"),
            "retentionReference": _lower(filters.get("retention_reference"), "retention_reference"),
            "totalIntervals": _int(filters.get("total_intervals"), "total_intervals"),
            "period": period.capitalize() if period else None,
            "targetEntity": _retention_entity(filters.get("target_entity"), "target_entity"),
            "returningEntity": _retention_entity(filters.get("returning_entity"), "returning_entity"),
            "cumulative": _bool(filters.get("cumulative"), "cumulative"),
            "minimumOccurrences": _int(filters.get("minimum_occurrences"), "minimum_occurrences"),
        }
    )


def _strings(filters: Mapping[str, Any], key: str) -> list[Any] | None:
    return _list(filters.get(key), key) or None


def _paths_filter(filters: Mapping[str, Any]) -> Json:
    return _compact(
        {
            "includeEventTypes": _strings(filters, "include_event_types"),
            "startPoint": _str(filters.get("start_point"), "start_point") or None,
            "endPoint": _str(filters.get("end_point"), "end_point") or None,
            "pathGroupings": _strings(filters, "path_groupings"),
            "excludeEvents": _strings(filters, "exclude_events"),
            "stepLimit": _int(filters.get("step_limit"), "step_limit"),
            "pathReplacements": _bool(filters.get("path_replacements"), "path_replacements"),
            "localPathCleaningFilters": _strings(filters, "local_path_cleaning_filters"),
            "edgeLimit": _int(filters.get("edge_limit"), "edge_limit"),
            "minEdgeWeight": _int(filters.get("min_edge_weight"), "min_edge_weight"),
            "maxEdgeWeight": _int(filters.get("max_edge_weight"), "max_edge_weight"),
            "pathsHogQLExpression": _str(filters.get("paths_hogql_expression"), "paths_hogql_expression"),
        }
    )


def _stickiness_filter(filters: Mapping[str, Any]) -> Json:
    return _compact(
        {
            "display": _display(filters),
            "showLegend": _bool(filters.get("show_legend"), "show_legend"),
            "showValuesOnSeries": _bool(filters.get("show_values_on_series"), "show_values_on_series"),
        }
    )


def _lifecycle_filter(filters: Mapping[str, Any]) -> Json:
    toggled = filters.get("toggledLifecycles", filters.get("toggled_lifecycles"))
    return _compact(
        {
            "toggledLifecycles": _list(toggled, "toggledLifecycles") or None,
            "showValuesOnSeries": _bool(filters.get("show_values_on_series"), "show_values_on_series"),
        }
    )


INSIGHT_FILTERS: dict[str, tuple[str, Callable[[Mapping[str, Any]], Json]]] = {
    "TRENDS": ("trendsFilter", _trends_filter),
    "FUNNELS": ("funnelsFilter", _funnels_filter),
    "RETENTION": ("retentionFilter", _retention_filter),
    "PATHS": ("pathsFilter", _paths_filter),
    "STICKINESS": ("stickinessFilter", _stickiness_filter),
    "LIFECYCLE": ("lifecycleFilter", _lifecycle_filter),
}


def insight_type(filters: Mapping[str, Any]) -> str:
    raw = filters.get("insight") or "TRENDS"
    insight = raw.strip().upper() if isinstance(raw, str) else None
    if insight not in KINDS:
        raise ValidationError(
            f"Unknown insight type: {str(raw)[:100]!r}.", code="invalid_choice", attr="insight"
        )
    return "TRENDS" if insight == "SESSIONS" else insight


def filters_to_query(filters: Mapping[str, Any]) -> dict[str, Any]:
    """Legacy `filters` → the query node dict that `app.query.parse.parse_query` accepts."""
    if not isinstance(filters, Mapping):
        raise ValidationError("Filters must be a JSON object.", attr="filters")
    insight = insight_type(filters)
    node: Json = {"kind": KINDS[insight]}
    if insight not in ("RETENTION", "PATHS"):
        node["series"] = series(filters, insight)
        if (interval := _lower(filters.get("interval"), "interval")) is not None:
            node["interval"] = interval
    node.update(_date_range(filters))
    if (properties := global_properties(filters.get("properties"))) is not None:
        node["properties"] = properties
    if (test_accounts := _bool(filters.get("filter_test_accounts"), "filter_test_accounts")) is not None:
        node["filterTestAccounts"] = test_accounts
    if (sampling := _number(filters.get("sampling_factor"), "sampling_factor")) is not None:
        node["samplingFactor"] = sampling
    if insight in ("TRENDS", "FUNNELS", "RETENTION"):
        node.update(_breakdown_filter(filters, insight))
    if insight in ("TRENDS", "STICKINESS"):
        node.update(_compare_filter(filters))
    group_index = _int(filters.get("aggregation_group_type_index"), "aggregation_group_type_index")
    if group_index is not None and insight not in ("STICKINESS", "LIFECYCLE"):
        node["aggregation_group_type_index"] = group_index
    key, build = INSIGHT_FILTERS[insight]
    insight_filter = build(filters)
    if insight_filter or insight in ("RETENTION", "PATHS"):  # these two require their filter
        node[key] = insight_filter
    if insight == "PATHS" and (filters.get("funnel_paths") or filters.get("funnel_filter")):
        node["funnelPathsFilter"] = {"funnelPathType": filters.get("funnel_paths")}
    return node
