"""JSON rendering for untyped (dict) responses: orjson with PostHog's `Z`-suffixed UTC datetimes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import orjson
from fastapi.responses import JSONResponse as _StarletteJSON

ORJSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS


def dumps(content: Any) -> bytes:
    try:
        return orjson.dumps(content, default=_default, option=ORJSON_OPTIONS)
    except TypeError:
        # orjson stops at 64-bit integers; JSON (and user-supplied JSONB) doesn't.
        return json.dumps(
            content, default=_fallback_default, ensure_ascii=False, separators=(",", ":")
        ).encode()


def _default(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _fallback_default(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return _default(value)


class JSONResponse(_StarletteJSON):
    def render(self, content: Any) -> bytes:
        return dumps(content)
