"""Names and descriptions for insights, derived from the query alone (no LLM): deterministic, readable.

    "Pageview count by browser, last 30 days"      TrendsQuery, one series, a breakdown
    "Signed up → Purchase conversion, last 7 days" FunnelsQuery
    "Pageview stickiness", "Pageview lifecycle", "Signed up retention", "User paths from /home"

Works on the source node as a plain dict (what `parse_query(...).model_dump(by_alias=True)` gives),
so every kind is named the same way whether or not its runner exists yet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

CORE_EVENTS = {
    "$pageview": "Pageview",
    "$pageleave": "Pageleave",
    "$screen": "Screen",
    "$autocapture": "Autocapture",
    "$identify": "Identify",
    "$rageclick": "Rageclick",
    "$exception": "Exception",
    "$feature_flag_called": "Feature flag called",
    "$groupidentify": "Group identify",
}
CORE_PROPERTIES = {
    "$browser": "browser",
    "$os": "OS",
    "$device_type": "device type",
    "$current_url": "current URL",
    "$pathname": "path",
    "$host": "host",
    "$referring_domain": "referring domain",
    "$referrer": "referrer",
    "$geoip_country_code": "country code",
    "$geoip_country_name": "country",
    "$geoip_city_name": "city",
    "$screen_name": "screen name",
    "$lib": "library",
    "$browser_version": "browser version",
}
MATH_PHRASES = {
    "total": "count",
    "dau": "unique users",
    "weekly_active": "weekly active users",
    "monthly_active": "monthly active users",
    "unique_session": "unique sessions",
    "first_time_for_user": "first-time users",
    "first_matching_event_for_user": "first-time users",
    "unique_group": "unique groups",
}
PROPERTY_MATH = {
    "sum": "sum of {}",
    "avg": "average {}",
    "min": "minimum {}",
    "max": "maximum {}",
    "median": "median {}",
    "p75": "75th percentile of {}",
    "p90": "90th percentile of {}",
    "p95": "95th percentile of {}",
    "p99": "99th percentile of {}",
}
PER_ACTOR = {
    "avg": "average",
    "min": "minimum",
    "max": "maximum",
    "median": "median",
    "p75": "75th percentile",
    "p90": "90th percentile",
    "p95": "95th percentile",
    "p99": "99th percentile",
}
UNITS = {"h": "hour", "d": "day", "w": "week", "m": "month", "q": "quarter", "y": "year"}
RELATIVE = re.compile(r"^-(\d+)([hdwmqy])$")
OPERATORS = {
    "exact": "=",
    "is_not": "≠",
    "icontains": "contains",
    "not_icontains": "doesn't contain",
    "regex": "matches",
    "not_regex": "doesn't match",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "is_date_before": "before",
    "is_date_after": "after",
    "is_date_exact": "on",
    "in": "is one of",
    "not_in": "is not one of",
}
MAX_NAME = 400
LISTED_SERIES = 3


def humanize(text: str) -> str:
    spaced = re.sub(r"[_\-]+", " ", text.removeprefix("$")).strip()
    spaced = re.sub(r"\s+", " ", spaced)
    return spaced[:1].upper() + spaced[1:] if spaced else text


def event_label(node: Mapping[str, Any]) -> str:
    if custom := node.get("custom_name"):
        return str(custom)
    if node.get("kind") == "ActionsNode":
        return str(node.get("name") or f"Action {node.get('id')}")
    event = node.get("event", node.get("id"))
    if event is None:
        return "All events"
    return CORE_EVENTS.get(str(event), humanize(str(event)))


def property_label(key: Any) -> str:
    text = str(key)
    return CORE_PROPERTIES.get(text, humanize(text).lower() if text.startswith("$") else text)


def _series_phrase(node: Mapping[str, Any]) -> str:
    math = str(node.get("math") or "total")
    label = event_label(node)
    if math in MATH_PHRASES:
        return f"{label} {MATH_PHRASES[math]}"
    if math in PROPERTY_MATH:
        prop = property_label(node.get("math_property") or "value")
        return f"{label} {PROPERTY_MATH[math].format(prop)}"
    if math.endswith("_count_per_actor") and (agg := PER_ACTOR.get(math.removesuffix("_count_per_actor"))):
        return f"{label} {agg} count per user"
    return f"{label} {humanize(math).lower()}"


def _join(parts: Sequence[str], conjunction: str = "&") -> str:
    if len(parts) > LISTED_SERIES:
        return f"{', '.join(parts[:LISTED_SERIES])} {conjunction} {len(parts) - LISTED_SERIES} more"
    if len(parts) <= 2:
        return f" {conjunction} ".join(parts)
    return f"{', '.join(parts[:-1])} {conjunction} {parts[-1]}"


def _plural(count: int, unit: str) -> str:
    return f"{unit}" if count == 1 else f"{count} {unit}s"


def date_phrase(date_range: Mapping[str, Any] | None, default_from: str = "-7d") -> str:
    date_from = str((date_range or {}).get("date_from") or default_from)
    date_to = (date_range or {}).get("date_to")
    named = {
        ("dStart", None): "today",
        ("-0d", None): "today",
        ("-1dStart", "-1dEnd"): "yesterday",
        ("wStart", None): "this week",
        ("mStart", None): "this month",
        ("-1mStart", "-1mEnd"): "last month",
        ("qStart", None): "this quarter",
        ("yStart", None): "year to date",
        ("-1yStart", "-1yEnd"): "last year",
        ("all", None): "all time",
    }
    if (date_from, date_to) in named:
        return named[(date_from, date_to)]
    match = RELATIVE.match(date_from)
    if match and date_to is None:
        return f"last {_plural(int(match.group(1)), UNITS[match.group(2)])}"
    if date_to is None:
        return f"since {date_from}"
    return f"{date_from} to {date_to}"


def _breakdowns(source: Mapping[str, Any]) -> list[str]:
    breakdown = source.get("breakdownFilter") or {}
    if breakdown.get("breakdowns"):
        return [property_label(item.get("property")) for item in breakdown["breakdowns"]]
    value = breakdown.get("breakdown")
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [property_label(v) for v in value]
    if breakdown.get("breakdown_type") == "cohort":
        return ["cohort"]
    return [property_label(value)]


def _with_breakdown(name: str, source: Mapping[str, Any]) -> str:
    breakdowns = _breakdowns(source)
    return f"{name} by {_join(breakdowns, 'and')}" if breakdowns else name


def _series(source: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in source.get("series") or [] if isinstance(s, Mapping)]


def _trends_title(source: Mapping[str, Any]) -> str:
    phrases = [_series_phrase(node) for node in _series(source)] or ["Events count"]
    trends_filter = source.get("trendsFilter") or {}
    formulas = trends_filter.get("formulas") or (
        [trends_filter["formula"]] if trends_filter.get("formula") else []
    )
    if formulas:
        return _with_breakdown(
            f"Formula {_join([str(f) for f in formulas], 'and')} of {_join(phrases)}", source
        )
    return _with_breakdown(_join(phrases), source)


def _funnel_title(source: Mapping[str, Any]) -> str:
    steps = " → ".join(event_label(node) for node in _series(source)) or "Funnel"
    viz = (source.get("funnelsFilter") or {}).get("funnelVizType", "steps")
    if viz == "time_to_convert":
        return _with_breakdown(f"Time to convert: {steps}", source)
    suffix = " conversion over time" if viz == "trends" else " conversion"
    return _with_breakdown(steps + suffix, source)


def _retention_title(source: Mapping[str, Any]) -> str:
    retention = source.get("retentionFilter") or {}
    target = event_label(retention.get("targetEntity") or {"event": None})
    returning = event_label(retention.get("returningEntity") or retention.get("targetEntity") or {})
    title = f"{target} retention" if target == returning else f"{target} → {returning} retention"
    return _with_breakdown(title, source)


def _paths_title(source: Mapping[str, Any]) -> str:
    paths = source.get("pathsFilter") or {}
    types = paths.get("includeEventTypes") or []
    kind = {"$pageview": "Page", "$screen": "Screen"}.get(types[0], "User") if len(types) == 1 else "User"
    title = f"{kind} paths"
    if paths.get("startPoint"):
        title += f" from {paths['startPoint']}"
    if paths.get("endPoint"):
        title += f" to {paths['endPoint']}"
    return title


def title(source: Mapping[str, Any]) -> str:
    """The name without its date range (what describes *what* is measured)."""
    kind = source.get("kind")
    first = _series(source)[0] if _series(source) else {"event": None}
    if kind == "TrendsQuery":
        return _trends_title(source)
    if kind == "FunnelsQuery":
        return _funnel_title(source)
    if kind == "RetentionQuery":
        return _retention_title(source)
    if kind == "PathsQuery":
        return _paths_title(source)
    if kind == "StickinessQuery":
        return f"{event_label(first)} stickiness"
    if kind == "LifecycleQuery":
        return f"{event_label(first)} lifecycle"
    return humanize(str(kind or "Insight"))


def name(source: Mapping[str, Any]) -> str:
    return f"{title(source)}, {date_phrase(source.get('dateRange'))}"[:MAX_NAME]


def _value_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _filter_text(item: Mapping[str, Any]) -> str:
    if "values" in item:
        inner = [_filter_text(v) for v in item.get("values") or [] if isinstance(v, Mapping)]
        inner = [text for text in inner if text]
        joiner = " or " if item.get("type") == "OR" else " and "
        return joiner.join(inner) if len(inner) < 2 else f"({joiner.join(inner)})"
    operator = str(item.get("operator") or "exact")
    label = property_label(item.get("key"))
    if item.get("type") == "person":
        label = f"person {label}"
    if operator in ("is_set", "is_not_set"):
        return f"{label} {'is set' if operator == 'is_set' else 'is not set'}"
    value = item.get("value")
    if operator == "exact" and isinstance(value, list) and len(value) > 1:
        operator = "in"
    if operator in ("between", "not_between") and isinstance(value, list) and len(value) == 2:
        word = "between" if operator == "between" else "not between"
        return f"{label} {word} {value[0]} and {value[1]}"
    return f"{label} {OPERATORS.get(operator, operator)} {_value_text(value)}"


def filters_text(properties: Any) -> str:
    if isinstance(properties, Mapping):
        return _filter_text(properties)
    if isinstance(properties, list):
        return " and ".join(_filter_text(p) for p in properties if isinstance(p, Mapping))
    return ""


def _measure_sentence(source: Mapping[str, Any]) -> str:
    kind = source.get("kind")
    interval = source.get("interval") or "day"
    when = date_phrase(source.get("dateRange"))
    if kind == "TrendsQuery":
        what = _join([_series_phrase(node) for node in _series(source)] or ["Events count"], "and")
        return f"Shows {what} per {interval} over {when}"
    if kind == "FunnelsQuery":
        funnel = source.get("funnelsFilter") or {}
        window = f"{funnel.get('funnelWindowInterval') or 14} {funnel.get('funnelWindowIntervalUnit', 'day')}"
        steps = " to ".join(event_label(node) for node in _series(source))
        return f"Shows how many users convert from {steps} within {window}s, over {when}"
    if kind == "RetentionQuery":
        period = str((source.get("retentionFilter") or {}).get("period") or "Day").lower()
        return f"Shows how many users come back each {period} after their first event, over {when}"
    if kind == "StickinessQuery":
        return f"Shows on how many {interval}s users performed the event, over {when}"
    if kind == "LifecycleQuery":
        return f"Shows new, returning, resurrecting and dormant users per {interval} over {when}"
    if kind == "PathsQuery":
        return f"Shows the most common paths users take, over {when}"
    return f"Shows {title(source)} over {when}"


def description(source: Mapping[str, Any]) -> str:
    sentences = [_measure_sentence(source)]
    if breakdowns := _breakdowns(source):
        sentences[0] += f", broken down by {_join(breakdowns, 'and')}"
    sentences[0] += "."
    conditions = [filters_text(source.get("properties"))] + [
        f"{event_label(node)} where {text}"
        for node in _series(source)
        if (text := filters_text(node.get("properties")))
    ]
    if conditions := [c for c in conditions if c]:
        sentences.append(f"Filtered to {'; '.join(conditions)}.")
    if source.get("filterTestAccounts"):
        sentences.append("Internal and test accounts are excluded.")
    if (source.get("compareFilter") or {}).get("compare"):
        sentences.append("Compared with the previous period.")
    return " ".join(sentences)[:MAX_NAME]
