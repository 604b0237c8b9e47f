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

from collections.abc import Callable, Mapping
from typing import Any

from app.errors import ValidationError
from app.query.legacy_fields import (
    Json,
    as_bool,
    as_int,
    as_list,
    as_number,
    as_object,
    as_str,
    compact,
    decoded,
    entity_properties,
    fail,
    global_properties,
    lower,
)

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
# --- entities ------------------------------------------------------------------------------------


def _node(raw: Any, attr: str, *, kind: str | None = None) -> Json:
    """A legacy entity (`{"id", "type", "name", "properties", ...}`) → an EventsNode or ActionsNode."""
    entity = as_object(raw, attr)
    if entity is None:
        raise fail("Expected an entity object.", attr)
    kind = kind or ("actions" if entity.get("type") == "actions" else "events")
    common = {
        "name": as_str(entity.get("name"), f"{attr}__name"),
        "custom_name": as_str(entity.get("custom_name"), f"{attr}__custom_name"),
        "properties": entity_properties(entity.get("properties"), f"{attr}__properties"),
    }
    if kind == "actions":
        action_id = as_int(entity.get("id"), f"{attr}__id")
        if action_id is None:
            raise fail("An action id is required.", f"{attr}__id")
        return compact({"kind": "ActionsNode", "id": action_id, **common})
    return compact({"kind": "EventsNode", "event": as_str(entity.get("id"), f"{attr}__id"), **common})


def _math(entity: Mapping[str, Any], insight: str, attr: str) -> Json:
    if insight not in ("TRENDS", "STICKINESS") or entity.get("math") in (None, ""):
        return {}
    math_name = as_str(entity.get("math"), f"{attr}__math")
    if insight == "STICKINESS":
        return {"math": math_name if math_name in ACTOR_MATH else "dau"}
    return compact(
        {
            "math": math_name,
            "math_property": as_str(entity.get("math_property"), f"{attr}__math_property"),
            "math_hogql": as_str(entity.get("math_hogql"), f"{attr}__math_hogql"),
            "math_group_type_index": as_int(
                entity.get("math_group_type_index"), f"{attr}__math_group_type_index"
            ),
            "math_multiplier": as_number(entity.get("math_multiplier"), f"{attr}__math_multiplier"),
        }
    )


def series(filters: Mapping[str, Any], insight: str) -> list[Json]:
    """`actions` and `events` merged and ordered by their `order` (as PostHog orders them)."""
    entities: list[tuple[str, Any, str]] = []
    for key in ("actions", "events"):
        for i, raw in enumerate(as_list(filters.get(key), key)):
            if isinstance(raw, str):
                continue  # PostHog skips template placeholders stored as strings
            entities.append((key, raw, f"{key}__{i}"))
    nodes = []
    for key, raw, attr in entities:
        if not isinstance(raw, Mapping):
            raise fail("Expected an entity object.", attr)
        order = as_int(raw.get("order"), f"{attr}__order")
        node = {**_node(raw, attr, kind=key), **_math(raw, insight, attr)}
        nodes.append((order if order else -1, node))
    nodes.sort(key=lambda pair: pair[0])
    return [node for _, node in nodes]


# --- per-insight pieces --------------------------------------------------------------------------


def _date_range(filters: Mapping[str, Any]) -> Json:
    date_range = compact(
        {
            "date_from": as_str(filters.get("date_from"), "date_from"),
            "date_to": as_str(filters.get("date_to"), "date_to"),
            "explicitDate": as_bool(filters.get("explicit_date"), "explicit_date") or None,
        }
    )
    return {"dateRange": date_range} if date_range else {}


def _breakdown_filter(filters: Mapping[str, Any], insight: str) -> Json:
    breakdown_type = lower(filters.get("breakdown_type"), "breakdown_type")
    breakdown = filters.get("breakdown")
    if breakdown_type == "undefined" and not isinstance(breakdown, str):
        return {}
    if breakdown_type == "events":
        breakdown_type = "event"
    if breakdown_type == "cohort":
        breakdown = decoded(breakdown, "breakdown")
    if isinstance(breakdown, list):
        breakdown = [b for b in breakdown if b is not None]
    result: Json = {}
    raw_breakdowns = as_list(filters.get("breakdowns"), "breakdowns")
    if len(raw_breakdowns) == 1 and isinstance(raw_breakdowns[0], Mapping):
        breakdown = raw_breakdowns[0].get("property")
        breakdown_type = lower(raw_breakdowns[0].get("type"), "breakdowns__0__type")
    elif raw_breakdowns:
        result["breakdowns"] = [
            compact(
                {
                    "property": item.get("property"),
                    "type": lower(item.get("type"), f"breakdowns__{i}__type"),
                    "normalize_url": as_bool(item.get("normalize_url"), f"breakdowns__{i}__normalize_url"),
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
        compact(
            {
                "breakdown_limit": as_int(filters.get("breakdown_limit"), "breakdown_limit"),
                "breakdown_normalize_url": as_bool(
                    filters.get("breakdown_normalize_url"), "breakdown_normalize_url"
                ),
                "breakdown_hide_other_aggregation": as_bool(
                    filters.get("breakdown_hide_other_aggregation"), "breakdown_hide_other_aggregation"
                ),
                "breakdown_histogram_bin_count": as_int(
                    filters.get("breakdown_histogram_bin_count"), "breakdown_histogram_bin_count"
                )
                if insight == "TRENDS"
                else None,
            }
        )
    )
    return {"breakdownFilter": result} if "breakdown" in result or "breakdowns" in result else {}


def _compare_filter(filters: Mapping[str, Any]) -> Json:
    if not as_bool(filters.get("compare"), "compare"):
        return {}
    return {
        "compareFilter": compact(
            {"compare": True, "compare_to": as_str(filters.get("compare_to"), "compare_to")}
        )
    }


def _display(filters: Mapping[str, Any]) -> str | None:
    display = filters.get("display")
    return display if isinstance(display, str) and display in DISPLAYS else None


def _trends_filter(filters: Mapping[str, Any]) -> Json:
    return compact(
        {
            "display": _display(filters),
            "formula": as_str(filters.get("formula"), "formula") or None,
            "smoothingIntervals": as_int(filters.get("smoothing_intervals"), "smoothing_intervals"),
            "showLegend": as_bool(filters.get("show_legend"), "show_legend"),
            "showValuesOnSeries": as_bool(filters.get("show_values_on_series"), "show_values_on_series"),
            "showPercentStackView": as_bool(
                filters.get("show_percent_stack_view"), "show_percent_stack_view"
            ),
            "aggregationAxisFormat": as_str(
                filters.get("aggregation_axis_format"), "aggregation_axis_format"
            ),
            "aggregationAxisPrefix": as_str(
                filters.get("aggregation_axis_prefix"), "aggregation_axis_prefix"
            ),
            "aggregationAxisPostfix": as_str(
                filters.get("aggregation_axis_postfix"), "aggregation_axis_postfix"
            ),
            "decimalPlaces": as_number(filters.get("decimal_places"), "decimal_places"),
        }
    )


def _window_unit(filters: Mapping[str, Any]) -> str | None:
    for key in ("funnel_window_interval_unit", "funnel_window_interval_type"):
        if (unit := lower(filters.get(key), key)) is not None:
            return unit.removesuffix("s")  # the API docs spell "days"
    return None


def _exclusion(raw: Any, attr: str) -> Json:
    entity = as_object(raw, attr) or {}
    return {
        **_node(raw, attr),
        "funnelFromStep": as_int(entity.get("funnel_from_step"), f"{attr}__funnel_from_step"),
        "funnelToStep": as_int(entity.get("funnel_to_step"), f"{attr}__funnel_to_step"),
    }


def _funnels_filter(filters: Mapping[str, Any]) -> Json:
    viz = lower(filters.get("funnel_viz_type"), "funnel_viz_type")
    if viz is None and filters.get("display") == "ActionsLineGraph":
        viz = "trends"  # funnel trends were once signalled by the display alone
    interval = as_int(filters.get("funnel_window_interval"), "funnel_window_interval")
    unit = _window_unit(filters)
    if (
        interval is None
        and (days := as_int(filters.get("funnel_window_days"), "funnel_window_days")) is not None
    ):
        interval, unit = days, "day"
    bin_count = filters.get("bin_count")
    return compact(
        {
            "funnelVizType": viz,
            "funnelOrderType": lower(filters.get("funnel_order_type"), "funnel_order_type"),
            "funnelWindowInterval": interval,
            "funnelWindowIntervalUnit": unit,
            "funnelFromStep": as_int(filters.get("funnel_from_step"), "funnel_from_step"),
            "funnelToStep": as_int(filters.get("funnel_to_step"), "funnel_to_step"),
            "funnelStepReference": lower(filters.get("funnel_step_reference"), "funnel_step_reference"),
            "breakdownAttributionType": lower(
                filters.get("breakdown_attribution_type"), "breakdown_attribution_type"
            ),
            "breakdownAttributionValue": as_int(
                filters.get("breakdown_attribution_value"), "breakdown_attribution_value"
            ),
            "binCount": None if bin_count == "auto" else as_int(bin_count, "bin_count"),
            "exclusions": [
                _exclusion(raw, f"exclusions__{i}")
                for i, raw in enumerate(as_list(filters.get("exclusions"), "exclusions"))
            ]
            or None,
            "layout": lower(filters.get("layout"), "layout"),
            "funnelAggregateByHogQL": as_str(
                filters.get("funnel_aggregate_by_hogql"), "funnel_aggregate_by_hogql"
            ),
        }
    )


def _retention_entity(raw: Any, attr: str) -> Json | None:
    entity = as_object(raw, attr)
    if entity is None:
        return None
    node = _node(entity, attr)
    is_action = node["kind"] == "ActionsNode"
    return compact(
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
    period = lower(filters.get("period"), "period")
    return compact(
        {
            "retentionType": lower(filters.get("retention_type"), "retention_type"),
            "retentionReference": lower(filters.get("retention_reference"), "retention_reference"),
            "totalIntervals": as_int(filters.get("total_intervals"), "total_intervals"),
            "period": period.capitalize() if period else None,
            "targetEntity": _retention_entity(filters.get("target_entity"), "target_entity"),
            "returningEntity": _retention_entity(filters.get("returning_entity"), "returning_entity"),
            "cumulative": as_bool(filters.get("cumulative"), "cumulative"),
            "minimumOccurrences": as_int(filters.get("minimum_occurrences"), "minimum_occurrences"),
        }
    )


def _strings(filters: Mapping[str, Any], key: str) -> list[Any] | None:
    return as_list(filters.get(key), key) or None


def _paths_filter(filters: Mapping[str, Any]) -> Json:
    return compact(
        {
            "includeEventTypes": _strings(filters, "include_event_types"),
            "startPoint": as_str(filters.get("start_point"), "start_point") or None,
            "endPoint": as_str(filters.get("end_point"), "end_point") or None,
            "pathGroupings": _strings(filters, "path_groupings"),
            "excludeEvents": _strings(filters, "exclude_events"),
            "stepLimit": as_int(filters.get("step_limit"), "step_limit"),
            "pathReplacements": as_bool(filters.get("path_replacements"), "path_replacements"),
            "localPathCleaningFilters": _strings(filters, "local_path_cleaning_filters"),
            "edgeLimit": as_int(filters.get("edge_limit"), "edge_limit"),
            "minEdgeWeight": as_int(filters.get("min_edge_weight"), "min_edge_weight"),
            "maxEdgeWeight": as_int(filters.get("max_edge_weight"), "max_edge_weight"),
            "pathsHogQLExpression": as_str(filters.get("paths_hogql_expression"), "paths_hogql_expression"),
        }
    )


def _stickiness_filter(filters: Mapping[str, Any]) -> Json:
    return compact(
        {
            "display": _display(filters),
            "showLegend": as_bool(filters.get("show_legend"), "show_legend"),
            "showValuesOnSeries": as_bool(filters.get("show_values_on_series"), "show_values_on_series"),
        }
    )


def _lifecycle_filter(filters: Mapping[str, Any]) -> Json:
    toggled = filters.get("toggledLifecycles", filters.get("toggled_lifecycles"))
    return compact(
        {
            "toggledLifecycles": as_list(toggled, "toggledLifecycles") or None,
            "showValuesOnSeries": as_bool(filters.get("show_values_on_series"), "show_values_on_series"),
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
        if (interval := lower(filters.get("interval"), "interval")) is not None:
            node["interval"] = interval
    node.update(_date_range(filters))
    if (properties := global_properties(filters.get("properties"))) is not None:
        node["properties"] = properties
    if (test_accounts := as_bool(filters.get("filter_test_accounts"), "filter_test_accounts")) is not None:
        node["filterTestAccounts"] = test_accounts
    if (sampling := as_number(filters.get("sampling_factor"), "sampling_factor")) is not None:
        node["samplingFactor"] = sampling
    if insight in ("TRENDS", "FUNNELS", "RETENTION"):
        node.update(_breakdown_filter(filters, insight))
    if insight in ("TRENDS", "STICKINESS"):
        node.update(_compare_filter(filters))
    group_index = as_int(filters.get("aggregation_group_type_index"), "aggregation_group_type_index")
    if group_index is not None and insight not in ("STICKINESS", "LIFECYCLE"):
        node["aggregation_group_type_index"] = group_index
    key, build = INSIGHT_FILTERS[insight]
    insight_filter = build(filters)
    if insight_filter or insight in ("RETENTION", "PATHS"):  # these two require their filter
        node[key] = insight_filter
    if insight == "PATHS" and (filters.get("funnel_paths") or filters.get("funnel_filter")):
        node["funnelPathsFilter"] = {"funnelPathType": filters.get("funnel_paths")}
    return node
