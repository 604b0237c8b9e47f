"""JSON rendering for untyped (dict) responses: orjson with PostHog's `Z`-suffixed UTC datetimes."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse as _StarletteJSON

ORJSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS


def dumps(content: Any) -> bytes:
    return orjson.dumps(content, default=_default, option=ORJSON_OPTIONS)


def _default(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class JSONResponse(_StarletteJSON):
    def render(self, content: Any) -> bytes:
        return dumps(content)
