"""PostHog's legacy filter-based funnel endpoints: legacy `filters` → query node → the engine.

Results go through the same execution layer as `/query` (cache, single flight): `refresh` false or
absent serves a fresh cached result when there is one (`blocking`), `refresh=true` recomputes
(`force_blocking`). The body is PostHog's legacy envelope `{result, timezone, is_cached, last_refresh}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from app.errors import ValidationError
from app.execution import modes
from app.execution.runner import ExecutionContext, execute
from app.models import Project
from app.models.base import utcnow
from app.query.api import TeamContext, parse_query, prepare_query
from app.query.legacy import filters_to_query

# Request keys that steer the endpoint rather than describe the funnel.
CONTROL_KEYS = ("refresh", "format", "client_query_id", "from_dashboard", "insight")
CORRELATION_FIELDS = {
    "funnel_correlation_type": "funnelCorrelationType",
    "funnel_correlation_names": "funnelCorrelationNames",
    "funnel_correlation_exclude_names": "funnelCorrelationExcludeNames",
    "funnel_correlation_event_names": "funnelCorrelationEventNames",
    "funnel_correlation_exclude_event_names": "funnelCorrelationExcludeEventNames",
    "funnel_correlation_event_exclude_property_names": "funnelCorrelationEventExcludePropertyNames",
}
ALLOWED_MODES = frozenset({modes.ExecutionMode.BLOCKING, modes.ExecutionMode.FORCE_BLOCKING})


def _mode(params: Mapping[str, Any]) -> modes.ExecutionMode:
    if params.get("format") not in (None, "", "json"):
        raise ValidationError("Only the json format is supported.", code="invalid_choice", attr="format")
    refresh = params.get("refresh")
    if refresh is not None and not isinstance(refresh, str | bool):
        raise ValidationError("Expected a boolean.", attr="refresh")
    return modes.parse_refresh(refresh, default=modes.ExecutionMode.BLOCKING, allowed=ALLOWED_MODES)


def _funnel_node(params: Mapping[str, Any]) -> dict[str, Any]:
    filters = {key: value for key, value in params.items() if key not in CONTROL_KEYS}
    return filters_to_query({**filters, "insight": "FUNNELS"})


def _strings(value: Any, attr: str) -> list[str] | None:
    """A list of names: JSON, or comma-separated as GET parameters may send them."""
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("["):
            return [part.strip() for part in text.split(",") if part.strip()] or None
        try:
            value = json.loads(text)
        except ValueError:
            raise ValidationError("Expected a list of names.", attr=attr) from None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Expected a list of names.", attr=attr)
    return value or None


def correlation_node(params: Mapping[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {
        "kind": "FunnelCorrelationQuery",
        "source": {"kind": "FunnelsActorsQuery", "source": _funnel_node(params)},
    }
    for legacy, field in CORRELATION_FIELDS.items():
        value = params.get(legacy)
        if value in (None, ""):
            continue
        if legacy == "funnel_correlation_type":
            if not isinstance(value, str):
                raise ValidationError("Expected a string.", attr=legacy)
            node[field] = value.lower()
        else:
            node[field] = _strings(value, legacy)
    return {key: value for key, value in node.items() if value is not None}


async def _run(
    ctx: ExecutionContext, project: Project, node: dict[str, Any], mode: modes.ExecutionMode
) -> dict[str, Any]:
    prepared = prepare_query(parse_query(node), TeamContext.from_project(project), now=utcnow())
    body = await execute(ctx, prepared, mode)
    return {
        "result": body["results"],
        "timezone": body["timezone"],
        "is_cached": body["is_cached"],
        "last_refresh": body["last_refresh"],
    }


async def funnel(ctx: ExecutionContext, project: Project, params: Mapping[str, Any]) -> dict[str, Any]:
    """`/insights/funnel/`: steps (or time_to_convert / trends, by `funnel_viz_type`)."""
    mode = _mode(params)
    return await _run(ctx, project, _funnel_node(params), mode)


async def funnel_correlation(
    ctx: ExecutionContext, project: Project, params: Mapping[str, Any]
) -> dict[str, Any]:
    """`/insights/funnel/correlation/`: `{events, skewed}` for the funnel the params describe."""
    mode = _mode(params)
    return await _run(ctx, project, correlation_node(params), mode)
