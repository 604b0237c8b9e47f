"""Normalize FunnelsQuery, RetentionQuery, PathsQuery and FunnelCorrelationQuery into `QueryIR`.

Called by `app.query.normalize.normalize` with the fields every kind shares already normalized.
Defaults are PostHog's; anything we can't honour is a 400 naming the field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, cast

from app.errors import ValidationError
from app.query import normalize as base
from app.query.ir import Breakdown, PropertyGroup, QueryIR, Series
from app.query.specs import (
    CorrelationSpec,
    FunnelExclusion,
    FunnelSpec,
    PathCleaning,
    PathsSpec,
    RetentionSpec,
)
from app.schemas.generated import query as schema

MIN_FUNNEL_STEPS, MAX_FUNNEL_STEPS = 2, 20
WINDOW_UNIT_SECONDS = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "week": 7 * 86400,
    "month": 30 * 86400,  # PostHog's month of conversion window is 30 days
}
MAX_WINDOW_SECONDS = 3660 * 86400
DEFAULT_TOTAL_INTERVALS = 8
MAX_EDGE_LIMIT = 10_000
MAX_BIN_COUNT = 90


def _fail(detail: str, attr: str) -> ValidationError:
    return ValidationError(detail, attr=attr)


def _extra(model: Any, key: str) -> Any:
    return (getattr(model, "model_extra", None) or {}).get(key)


def entity(
    *,
    is_action: bool,
    raw_id: Any,
    name: str | None,
    custom_name: str | None,
    properties: Sequence[Any] | None,
    order: int,
    attr: str,
) -> Series:
    """An event or action matcher (funnel exclusion, retention entity) as a `Series`."""
    group = PropertyGroup(
        "AND",
        tuple(base.property_filter(f, f"{attr}__properties__{i}") for i, f in enumerate(properties or [])),
    )
    if is_action:
        if isinstance(raw_id, str) and raw_id.isdigit():
            raw_id = int(raw_id)
        if not isinstance(raw_id, int) or isinstance(raw_id, bool) or not 0 < raw_id < 2**31:
            raise _fail("An action id is required.", f"{attr}__id")
        return Series(
            order, "actions", None, raw_id, name or str(raw_id), custom_name, "total", None, None, group
        )
    event = None if raw_id is None else str(raw_id)
    if event is not None:
        base.check_text(event, f"{attr}__id", max_length=400)
    label = event if event is not None else "All events"
    return Series(order, "events", event, None, name or label, custom_name, "total", None, None, group)


def _same_matcher(a: Series, b: Series) -> bool:
    return (a.kind, a.event, a.action_id) == (b.kind, b.event, b.action_id)


def _breakdown(raw: schema.BreakdownFilter | None, *, single: bool = False) -> Breakdown | None:
    result = base.breakdown(raw)
    if result is None:
        return None
    if any(item.histogram_bin_count for item in result.items):
        raise _fail("Histogram breakdowns are only supported in trends.", "breakdownFilter")
    if single and len(result.items) > 1:
        raise _fail("Only one breakdown is supported here.", "breakdownFilter__breakdowns")
    return result


# --- funnels ---------------------------------------------------------------------------------------


def _window_seconds(raw: schema.FunnelsFilter) -> int:
    interval = raw.funnel_window_interval if raw.funnel_window_interval is not None else 14
    unit = raw.funnel_window_interval_unit or "day"
    seconds = interval * WINDOW_UNIT_SECONDS[unit]
    if seconds > MAX_WINDOW_SECONDS:
        raise _fail("The conversion window may be at most 10 years.", "funnelsFilter__funnelWindowInterval")
    return seconds


def _exclusions(
    raw: schema.FunnelsFilter, steps: tuple[Series, ...], unordered: bool
) -> tuple[FunnelExclusion, ...]:
    found = []
    for i, item in enumerate(raw.exclusions or []):
        attr = f"funnelsFilter__exclusions__{i}"
        is_action = item.kind == "ActionsNode"
        series = entity(
            is_action=is_action,
            raw_id=item.id if is_action else item.event,
            name=item.name,
            custom_name=item.custom_name,
            properties=item.properties,
            order=i,
            attr=attr,
        )
        start, end = item.funnel_from_step, item.funnel_to_step
        if not start < end < len(steps):
            raise _fail(
                f"Exclusion steps must satisfy funnelFromStep < funnelToStep < {len(steps)}.",
                f"{attr}__funnelToStep",
            )
        if unordered and (start, end) != (0, len(steps) - 1):
            raise _fail("Partial Exclusions not allowed in unordered funnels", f"{attr}__funnelFromStep")
        if any(_same_matcher(series, step) for step in steps[start : end + 1]):
            raise _fail("Exclusion steps cannot contain an event that's part of funnel steps.", attr)
        found.append(FunnelExclusion(series, start, end))
    return tuple(found)


def funnel(node: schema.FunnelsQuery, common: dict[str, Any]) -> QueryIR:
    steps: tuple[Series, ...] = common["series"]
    if not MIN_FUNNEL_STEPS <= len(steps) <= MAX_FUNNEL_STEPS:
        raise _fail(f"A funnel needs between {MIN_FUNNEL_STEPS} and {MAX_FUNNEL_STEPS} steps.", "series")
    raw = node.funnels_filter or schema.FunnelsFilter()
    if _extra(raw, "funnelAggregateByHogQL") not in (None, "", "person_id"):
        raise _fail("Aggregating funnels by a HogQL expression is not supported.", "funnelsFilter")
    order = raw.funnel_order_type or "ordered"
    viz = raw.funnel_viz_type or "steps"
    attribution = raw.breakdown_attribution_type or "first_touch"
    attribution_step = (raw.breakdown_attribution_value or 0) if attribution == "step" else 0
    if not 0 <= attribution_step < len(steps):
        raise _fail(
            "breakdownAttributionValue must name a funnel step.", "funnelsFilter__breakdownAttributionValue"
        )
    if order == "unordered" and attribution_step != 0:
        raise _fail(
            "Only the first step can be used for breakdown attribution in unordered funnels",
            "funnelsFilter__breakdownAttributionValue",
        )
    from_step = raw.funnel_from_step or 0
    to_step = raw.funnel_to_step if raw.funnel_to_step is not None else len(steps) - 1
    if viz != "steps" and not 0 <= from_step < to_step < len(steps):
        raise _fail(
            f"funnelFromStep and funnelToStep must satisfy 0 <= from < to < {len(steps)}.",
            "funnelsFilter__funnelToStep",
        )
    bin_count = None if raw.bin_count is None else min(max(raw.bin_count, 1), MAX_BIN_COUNT)
    spec = FunnelSpec(
        viz=viz,
        order=order,
        window_seconds=_window_seconds(raw),
        exclusions=_exclusions(raw, steps, order == "unordered"),
        attribution=attribution,
        attribution_step=attribution_step,
        step_reference=raw.funnel_step_reference or "total",
        from_step=from_step,
        to_step=to_step,
        bin_count=bin_count,
    )
    return QueryIR(**common, breakdown=_breakdown(node.breakdown_filter), funnel=spec)


# --- retention -------------------------------------------------------------------------------------


def _retention_entity(raw: schema.RetentionEntity | None, order: int, attr: str) -> Series:
    if raw is None:
        return entity(
            is_action=False,
            raw_id="$pageview",
            name=None,
            custom_name=None,
            properties=None,
            order=order,
            attr=attr,
        )
    return entity(
        is_action=raw.kind == "ActionsNode" or raw.type == "actions",
        raw_id=raw.id,
        name=raw.name,
        custom_name=raw.custom_name,
        properties=raw.properties,
        order=order,
        attr=attr,
    )


def retention(node: schema.RetentionQuery, common: dict[str, Any]) -> QueryIR:
    raw = node.retention_filter
    attr = "retentionFilter"
    if _extra(raw, "aggregationType") not in (None, "count"):
        raise _fail("Only count retention is supported.", f"{attr}__aggregationType")
    if _extra(raw, "timeWindowMode") not in (None, "strict_calendar_dates"):
        raise _fail("Only calendar-period retention is supported.", f"{attr}__timeWindowMode")
    if _extra(raw, "retentionCustomBrackets"):
        raise _fail("Custom retention brackets are not supported.", f"{attr}__retentionCustomBrackets")
    minimum = raw.minimum_occurrences if raw.minimum_occurrences is not None else 1
    if not 1 <= minimum <= 1_000_000:
        raise _fail("minimumOccurrences must be between 1 and 1000000.", f"{attr}__minimumOccurrences")
    period = cast(Any, (raw.period or "Day").lower())
    spec = RetentionSpec(
        retention_type=raw.retention_type or "retention_recurring",
        period=period,
        total_intervals=raw.total_intervals or DEFAULT_TOTAL_INTERVALS,
        target=_retention_entity(raw.target_entity, 0, f"{attr}__targetEntity"),
        returning=_retention_entity(raw.returning_entity, 1, f"{attr}__returningEntity"),
        cumulative=bool(raw.cumulative),
        minimum_occurrences=minimum,
        reference=raw.retention_reference or "total",
    )
    shared = {**common, "interval": period}
    return QueryIR(**shared, breakdown=_breakdown(node.breakdown_filter, single=True), retention=spec)


# --- paths -----------------------------------------------------------------------------------------


def _texts(values: Sequence[str] | None, attr: str) -> tuple[str, ...]:
    if values is not None and len(values) > base.MAX_LIST_VALUES:
        raise _fail(f"At most {base.MAX_LIST_VALUES} values are allowed.", attr)
    return tuple(base.check_text(v, f"{attr}__{i}", max_length=2000) for i, v in enumerate(values or []))


def _point(value: str | None, attr: str) -> str | None:
    if not value:
        return None
    base.check_text(value, attr, max_length=2000)
    return value[:-1] if len(value) > 1 and value.endswith("/") else value  # as pageview URLs are trimmed


def _cleaning(raw: schema.PathsFilter) -> tuple[PathCleaning, ...]:
    found = []
    for i, item in enumerate(raw.local_path_cleaning_filters or []):
        attr = f"pathsFilter__localPathCleaningFilters__{i}"
        if not item.regex:
            raise _fail("A path cleaning rule needs a regex.", f"{attr}__regex")
        found.append(
            PathCleaning(
                alias=base.check_text(item.alias or "", f"{attr}__alias", max_length=2000),
                regex=base.check_text(item.regex, f"{attr}__regex", max_length=2000),
            )
        )
    return tuple(found)


def paths(node: schema.PathsQuery, common: dict[str, Any]) -> QueryIR:
    raw = node.paths_filter
    if node.funnel_paths_filter is not None:
        raise _fail("Funnel paths are not supported.", "funnelPathsFilter")
    include = tuple(dict.fromkeys(raw.include_event_types or []))
    if "hogql" in include:
        raise _fail("HogQL path items are not supported.", "pathsFilter__includeEventTypes")
    for key in ("minEdgeWeight", "maxEdgeWeight"):
        value = getattr(raw, "min_edge_weight" if key == "minEdgeWeight" else "max_edge_weight")
        if value is not None and value < 0:
            raise _fail("Edge weights can't be negative.", f"pathsFilter__{key}")
    spec = PathsSpec(
        include_event_types=include,
        start_point=_point(raw.start_point, "pathsFilter__startPoint"),
        end_point=_point(raw.end_point, "pathsFilter__endPoint"),
        step_limit=raw.step_limit or 5,
        edge_limit=min(raw.edge_limit or 50, MAX_EDGE_LIMIT),
        min_edge_weight=raw.min_edge_weight,
        max_edge_weight=raw.max_edge_weight,
        exclude_events=_texts(raw.exclude_events, "pathsFilter__excludeEvents"),
        groupings=_texts(raw.path_groupings, "pathsFilter__pathGroupings"),
        cleaning=_cleaning(raw),
    )
    return QueryIR(**common, paths=spec)


# --- funnel correlation ----------------------------------------------------------------------------


def correlation(node: schema.FunnelCorrelationQuery, normalize: Callable[[Any], QueryIR]) -> QueryIR:
    funnel_ir = normalize(node.source.source)
    kind = node.funnel_correlation_type or "events"
    spec = CorrelationSpec(
        type=kind,
        names=_texts(node.funnel_correlation_names, "funnelCorrelationNames"),
        exclude_names=_texts(node.funnel_correlation_exclude_names, "funnelCorrelationExcludeNames"),
        event_names=_texts(node.funnel_correlation_event_names, "funnelCorrelationEventNames"),
        exclude_event_names=_texts(
            node.funnel_correlation_exclude_event_names, "funnelCorrelationExcludeEventNames"
        ),
        event_exclude_property_names=_texts(
            node.funnel_correlation_event_exclude_property_names, "funnelCorrelationEventExcludePropertyNames"
        ),
    )
    if kind == "properties" and not spec.names:
        raise _fail("Property correlation needs at least one property name.", "funnelCorrelationNames")
    if kind == "event_with_properties" and not spec.event_names:
        raise _fail(
            "Event property correlation needs at least one event name.", "funnelCorrelationEventNames"
        )
    return dataclasses.replace(funnel_ir, kind="FunnelCorrelationQuery", correlation=spec)
