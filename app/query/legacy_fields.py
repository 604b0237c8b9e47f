"""Reading legacy `filters` values: the loose types GET parameters and old insights carry
(JSON-encoded lists and objects, "true"/"1" booleans, numeric strings) and property filters in every
historical shape. Anything unreadable is a 400 naming the field."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from app.errors import ValidationError

PROPERTY_KEYS = ("key", "value", "operator", "type", "label")
NO_OPERATOR_TYPES = frozenset({"cohort", "hogql"})
TRUE, FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no", ""})
Json = dict[str, Any]


def fail(detail: str, attr: str) -> ValidationError:
    return ValidationError(detail, attr=attr)


def decoded(value: Any, attr: str, *, detail: str = "Expected JSON.") -> Any:
    """A JSON-encoded string (as GET parameters carry lists and objects) → its value."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise fail(detail, attr) from None


def as_list(value: Any, attr: str) -> list[Any]:
    value = decoded(value, attr)
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail("Expected a list.", attr)
    return value


def as_object(value: Any, attr: str) -> Mapping[str, Any] | None:
    value = decoded(value, attr)
    if value is None or isinstance(value, Mapping):
        return value
    raise fail("Expected an object.", attr)


def as_bool(value: Any, attr: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise fail("Expected a boolean.", attr)


def as_int(value: Any, attr: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise fail("A valid integer is required.", attr)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) < 19:
        return int(value.strip())
    raise fail("A valid integer is required.", attr)


def as_number(value: Any, attr: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise fail("A valid number is required.", attr)
    return number


def as_str(value: Any, attr: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise fail("Expected a string.", attr)


def lower(value: Any, attr: str) -> str | None:
    text = as_str(value, attr)
    return text.strip().lower() if text else None


def compact(values: Mapping[str, Any]) -> Json:
    return {key: value for key, value in values.items() if value is not None}


# --- properties ----------------------------------------------------------------------------------


def _clean_property(raw: Any, attr: str) -> Json:
    if not isinstance(raw, Mapping):
        raise fail("Expected a property filter object.", attr)
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
    return compact({key: prop.get(key) for key in PROPERTY_KEYS})


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
    values = as_list(raw.get("values"), f"{attr}__values")
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
    value = decoded(raw, attr, detail="Properties are unparsable!")
    if not value:
        return None
    if isinstance(value, list):
        return [_clean_property(v, f"{attr}__{i}") for i, v in enumerate(value)]
    if not isinstance(value, Mapping):
        raise fail("Properties are unparsable!", attr)
    if not _is_group(value):
        return _old_style(value)
    group = _clean_group(value, attr)
    if not any(_is_group(v) for v in group["values"]):
        return {"type": "AND", "values": [group]}  # a flat group: PropertyGroupFilter wants groups of groups
    if not all(_is_group(v) for v in group["values"]):
        raise fail("A property group may not mix groups and filters.", attr)
    return group


def entity_properties(raw: Any, attr: str) -> list[Json] | None:
    value = decoded(raw, attr, detail="Properties are unparsable!")
    if not value:
        return None
    if isinstance(value, list):
        return [_clean_property(v, f"{attr}__{i}") for i, v in enumerate(value)]
    if isinstance(value, Mapping) and not _is_group(value):
        return _old_style(value)
    if _is_group(value) and not any(_is_group(v) for v in as_list(value.get("values"), attr)):
        return _clean_group(value, attr)["values"]  # type: ignore[no-any-return]
    raise fail("Unexpected format of entity properties.", attr)
