"""`?format=csv` (or `Accept: text/csv`) for list and retrieve, as DRF's CSV renderer does it:
one row per object, nested fields flattened into dotted column names (`created_by.email`, `tags.0`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response

from app.responses import dumps

MEDIA_TYPE = "text/csv; charset=utf-8"


def wants_csv(request: Request, format_param: str | None) -> bool:
    if format_param is not None:
        return format_param == "csv"
    return "text/csv" in request.headers.get("accept", "")


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        items: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, item in items:
        flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(rows: Iterable[Mapping[str, Any]]) -> bytes:
    # Through JSON first so datetimes and UUIDs read exactly as in the JSON response.
    plain = [flatten(row) for row in orjson.loads(dumps(list(rows)))]
    header: dict[str, None] = {}
    for row in plain:
        header.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in plain:
        writer.writerow(_cell(row.get(column)) for column in header)
    return out.getvalue().encode()


def csv_response(rows: Iterable[Mapping[str, Any]], status_code: int = 200) -> Response:
    return Response(render(rows), status_code=status_code, media_type=MEDIA_TYPE)
