"""Capture request bodies, decoded the way PostHog's capture endpoints decode them.

The SDKs send the same events in several wrappings: plain JSON, `Content-Encoding: gzip`,
`?compression=gzip-js` (a gzip body posted as text), `?compression=base64` or a form field
`data=<base64 or JSON>`, and `GET ?data=…`. The body itself is one event, `{"batch": [...]}` or a bare
list. Everything here is pure; a request that can't be decoded is a 400 and nothing of it is stored.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import orjson

from app.errors import APIError, ParseError, PayloadTooLarge

GZIP_MAGIC = b"\x1f\x8b"
# A decompressed body may be this many times the size limit: room for real compression ratios of JSON,
# not for a gzip bomb.
MAX_INFLATION = 20


class MissingToken(APIError):
    status_code = 401
    type = "authentication_error"
    code = "missing_api_key"
    default_detail = "API key not provided. You can find your project API key in PostHog project settings."


class InvalidPayload(APIError):
    code = "invalid_payload"


@dataclass(frozen=True, slots=True)
class CaptureBatch:
    token: str
    events: list[dict[str, Any]]
    # When the client sent the request by its own clock: `sent_at` in the body, or `?_=<ms>`.
    sent_at: datetime | None


def _gunzip(data: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ParseError(f"Malformed request: could not decompress the gzip body ({exc}).") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge("Request body is too large once decompressed.")
    return out


def _b64decode(data: bytes) -> bytes:
    # Form encoding may have turned `+` into spaces; padding is often stripped.
    cleaned = data.strip().replace(b" ", b"+")
    return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4), validate=False)


def _loads(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    try:
        return orjson.loads(_b64decode(data))
    except (binascii.Error, ValueError):
        raise ParseError("Malformed request: the body is not valid JSON.") from None


def decode_body(
    body: bytes,
    *,
    query: Mapping[str, str],
    content_type: str = "",
    content_encoding: str = "",
    max_bytes: int,
) -> Any:
    """The JSON value a capture request carries, whatever its wrapping."""
    limit = max_bytes * MAX_INFLATION
    compression = query.get("compression", "").lower()
    data = body
    if content_encoding.lower().strip() == "gzip":
        data = _gunzip(data, limit)
    if "application/x-www-form-urlencoded" in content_type.lower():
        form = parse_qs(data.decode("latin-1"), keep_blank_values=True)
        data = form.get("data", [""])[0].encode("latin-1")
        compression = form.get("compression", [compression])[0].lower()
    if not data and "data" in query:
        data = query["data"].encode()
    if not data.strip():
        raise ParseError("Malformed request: the body is empty.")
    if compression in ("gzip", "gzip-js") or data.startswith(GZIP_MAGIC):
        data = _gunzip(data, limit)
    elif compression == "base64":
        try:
            data = _b64decode(data)
        except binascii.Error:
            raise ParseError("Malformed request: invalid base64 body.") from None
    elif compression not in ("", "none"):
        raise ParseError(f"Unsupported compression {compression!r}; use gzip, gzip-js or base64.")
    return _loads(data)


def _token_of(mapping: Mapping[str, Any]) -> str | None:
    for key in ("api_key", "token", "$token"):
        if isinstance(value := mapping.get(key), str) and value:
            return value
    properties = mapping.get("properties")
    if isinstance(properties, dict) and isinstance(value := properties.get("token"), str) and value:
        return value
    return None


def _sent_at(payload: Any, query: Mapping[str, str]) -> datetime | None:
    raw = (payload.get("sent_at") or payload.get("sentAt")) if isinstance(payload, dict) else None
    if isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    millis = query.get("_", "")
    if millis.isdigit():
        try:
            return datetime.fromtimestamp(int(millis) / 1000, UTC)
        except (OverflowError, ValueError, OSError):
            return None
    return None


def capture_batch(payload: Any, query: Mapping[str, str]) -> CaptureBatch:
    """Events, project token and client send time of a decoded capture body."""
    if isinstance(payload, list):
        events: Any = payload
        token = None
    elif isinstance(payload, dict) and "batch" in payload:
        events, token = payload["batch"], _token_of(payload)
    elif isinstance(payload, dict):
        events, token = [payload], None
    else:
        raise InvalidPayload('Invalid payload: expected an event, a list of events or {"batch": [...]}.')
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise InvalidPayload("Invalid payload: every event must be a JSON object.")
    token = token or query.get("api_key") or query.get("token")
    if not token:
        token = next((t for e in events if (t := _token_of(e))), None)
    if not token:
        raise MissingToken()
    return CaptureBatch(token=token, events=events, sent_at=_sent_at(payload, query))
