"""Dashboard templates: the built-in catalog and turning a template (catalog or JSON) into tiles.

Template variables (`{"id": "SIGNUP", "default": {...}}`) are substituted wherever a tile's query or
filters hold the placeholder `"{SIGNUP}"`: a value that is exactly the placeholder becomes the
variable's default (any JSON), a longer string has the placeholder replaced by the default's text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.errors import ValidationError


def _trend(event: str, math: str = "total", **source: Any) -> dict[str, Any]:
    return {
        "kind": "InsightVizNode",
        "source": {
            "kind": "TrendsQuery",
            "series": [{"kind": "EventsNode", "event": event, "math": math}],
            **source,
        },
    }


def _layout(index: int) -> dict[str, Any]:
    return {
        "sm": {"x": (index % 2) * 6, "y": (index // 2) * 5, "w": 6, "h": 5},
        "xs": {"x": 0, "y": index * 5, "w": 1, "h": 5},
    }


def _tiles(*insights: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"type": "INSIGHT", "name": name, "query": query, "layouts": _layout(i)}
        for i, (name, query) in enumerate(insights)
    ]


CATALOG: dict[str, dict[str, Any]] = {
    "DEFAULT_APP": {
        "template_name": "Product analytics",
        "dashboard_description": "Traffic, active users and how they retain.",
        "dashboard_filters": {},
        "tags": [],
        "tiles": _tiles(
            ("Daily active users (DAUs)", _trend("$pageview", "dau", dateRange={"date_from": "-30d"})),
            ("Weekly active users (WAUs)", _trend("$pageview", "weekly_active", interval="week")),
            ("Pageviews by browser", _trend("$pageview", breakdownFilter={"breakdown": "$browser"})),
            (
                "Retention",
                {
                    "kind": "InsightVizNode",
                    "source": {
                        "kind": "RetentionQuery",
                        "retentionFilter": {
                            "period": "Week",
                            "totalIntervals": 8,
                            "targetEntity": {"id": "$pageview", "type": "events"},
                        },
                    },
                },
            ),
        ),
        "variables": [],
    },
    "WEB_ANALYTICS": {
        "template_name": "Web analytics",
        "dashboard_description": "Visitors, pageviews and where they come from.",
        "dashboard_filters": {},
        "tags": [],
        "tiles": _tiles(
            ("Unique visitors", _trend("$pageview", "dau")),
            ("Pageviews", _trend("$pageview")),
            (
                "Top referring domains",
                _trend("$pageview", breakdownFilter={"breakdown": "$referring_domain"}),
            ),
            ("Pageviews by path", _trend("$pageview", breakdownFilter={"breakdown": "$pathname"})),
        ),
        "variables": [],
    },
    "SIGNUP_FUNNEL": {
        "template_name": "Sign-up conversion",
        "dashboard_description": "How visitors turn into users.",
        "dashboard_filters": {},
        "tags": [],
        "tiles": [
            {
                "type": "INSIGHT",
                "name": "Sign-up funnel",
                "query": {
                    "kind": "InsightVizNode",
                    "source": {
                        "kind": "FunnelsQuery",
                        "series": [
                            {"kind": "EventsNode", "event": "$pageview"},
                            {"kind": "EventsNode", "event": "{SIGNUP}"},
                        ],
                    },
                },
                "layouts": _layout(0),
            },
            {"type": "INSIGHT", "name": "Sign-ups", "query": _trend("{SIGNUP}"), "layouts": _layout(1)},
        ],
        "variables": [
            {
                "id": "SIGNUP",
                "name": "Sign-up event",
                "type": "event",
                "default": "signup",
                "description": "The event a new user sends when they sign up.",
            }
        ],
    },
}
# Products that own an unlisted dashboard (create_unlisted_dashboard), each built from its template.
UNLISTED: dict[str, dict[str, Any]] = {
    "llm-analytics": {
        "template_name": "LLM analytics",
        "dashboard_description": "Generations, traces and their cost.",
        "dashboard_filters": {"template_version": 1},
        "tags": ["llm-analytics"],
        "tiles": _tiles(
            ("Generations", _trend("$ai_generation")),
            ("Users of AI features", _trend("$ai_generation", "dau")),
        ),
        "variables": [],
    },
    "mcp-analytics": {
        "template_name": "MCP analytics",
        "dashboard_description": "Tool calls made through MCP.",
        "dashboard_filters": {"template_version": 1},
        "tags": ["mcp-analytics"],
        "tiles": _tiles(("Tool calls", _trend("$mcp_tool_call")), ("Users", _trend("$mcp_tool_call", "dau"))),
        "variables": [],
    },
}


def listing() -> list[dict[str, Any]]:
    return [
        {
            "id": key,
            "template_name": template["template_name"],
            "dashboard_description": template["dashboard_description"],
            "dashboard_filters": template["dashboard_filters"],
            "tiles": template["tiles"],
            "variables": template["variables"],
            "tags": template["tags"],
            "image_url": None,
            "scope": "global",
            "availability_contexts": ["general"],
        }
        for key, template in CATALOG.items()
    ]


def by_key(key: str) -> dict[str, Any]:
    template = CATALOG.get(key)
    if template is None:
        raise ValidationError(f"Unknown dashboard template: {key[:100]!r}.", attr="use_template")
    return template


def _substitute(value: Any, defaults: Mapping[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, defaults) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, defaults) for v in value]
    if isinstance(value, str):
        for name, default in defaults.items():
            placeholder = "{" + name + "}"
            if value == placeholder:
                return default
            if placeholder in value:
                value = value.replace(placeholder, default if isinstance(default, str) else str(default))
    return value


def _event_name(default: Any) -> Any:
    """Variables of type event may default to an entity (`{"id": "signup", ...}`): use its event name."""
    if isinstance(default, Mapping) and "id" in default:
        return default["id"]
    return default


def resolved_tiles(template: Mapping[str, Any]) -> list[dict[str, Any]]:
    variables: Sequence[Mapping[str, Any]] = template.get("variables") or []
    defaults = {
        str(v["id"]): _event_name(v.get("default"))
        for v in variables
        if isinstance(v, Mapping) and v.get("id")
    }
    return [_substitute(dict(tile), defaults) for tile in template.get("tiles") or []]
