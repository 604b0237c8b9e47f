"""One raw SDK event → the row we store, with PostHog's rules for names, ids, time and elements.

Pure: the server's receive time (`now`) and the client's send time are passed in. Validation is
all-or-nothing per request (a missing `event` or `distinct_id` anywhere rejects the whole request, as
PostHog does), so a rejected request stores nothing.
"""

from __future__ import annotations

import re
import uuid as uuid_lib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import uuid_utils.compat as uuid7

from app.elements_chain import chain_from_sdk_elements
from app.ingestion.payload import InvalidPayload

MAX_EVENT_NAME = 200
MAX_DISTINCT_ID = 200
# PostHog ingests events dated in the future but re-dates those beyond this to the receive time.
MAX_FUTURE = timedelta(hours=23)
IDENTIFY = "$identify"
_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
CREATE_ALIAS = "$create_alias"


@dataclass(slots=True)
class CapturedEvent:
    uuid: uuid_lib.UUID | str
    event: str
    distinct_id: str
    timestamp: datetime
    properties: dict[str, Any]
    elements_chain: str
    session_id: str | None

    @property
    def merge_from(self) -> str | None:
        """For `$identify` / `$create_alias`: the other distinct id whose person joins this event's person."""
        key = (
            "$anon_distinct_id" if self.event == IDENTIFY else "alias" if self.event == CREATE_ALIAS else None
        )
        value = self.properties.get(key) if key else None
        return _as_id(value) if value is not None else None

    def person_updates(self) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
        """`$set`, `$set_once` and `$unset` of this event (malformed ones ignored, as PostHog does)."""
        set_ = self.properties.get("$set")
        set_once = self.properties.get("$set_once")
        unset = self.properties.get("$unset")
        return (
            set_ if isinstance(set_, dict) else {},
            set_once if isinstance(set_once, dict) else {},
            [str(k) for k in unset] if isinstance(unset, list) else [],
        )

    def properties_json(self) -> str:
        return jsonb_text(self.properties)


def jsonb_text(value: Any) -> str:
    """`value` as JSON text Postgres accepts as jsonb (which can't hold NUL: it becomes U+FFFD).
    Unknown types, such as asyncpg's own UUID of ids read back from Postgres, become strings."""
    return orjson.dumps(value, default=str).replace(b"\\u0000", b"\\ufffd").decode()


def clean_text(value: str, limit: int) -> str:
    return value[:limit].replace("\x00", "\ufffd")


def _as_id(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        text = str(value).strip()
        return clean_text(text, MAX_DISTINCT_ID) if text else None
    return None


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 (naive means UTC) or epoch milliseconds; None when unusable."""
    try:
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def event_time(
    raw: dict[str, Any], properties: dict[str, Any], now: datetime, sent_at: datetime | None
) -> datetime:
    """PostHog's `parseEventTimestamp`: the client's timestamp corrected by its clock skew
    (`now - sent_at`), else `now - offset`, else now; implausibly future times become now."""
    timestamp = parse_time(raw.get("timestamp")) if raw.get("timestamp") is not None else None
    sent = parse_time(raw["sent_at"]) if raw.get("sent_at") is not None else sent_at
    offset = raw.get("offset")
    try:
        if timestamp is not None:
            if sent is not None and not properties.get("$ignore_sent_at"):
                timestamp = timestamp + (now - sent)
        elif isinstance(offset, int | float) and not isinstance(offset, bool):
            timestamp = now - timedelta(milliseconds=offset)
        else:
            timestamp = now
    except OverflowError:
        return now
    return now if timestamp > now + MAX_FUTURE else timestamp


def _uuid(raw: Any, index: int) -> uuid_lib.UUID | str:
    """The event's uuid: a canonical string as sent (checked by a regex, far cheaper than parsing it;
    the driver encodes strings), or a new time-ordered one, which keeps primary-key inserts at the
    right edge of the index."""
    if raw is None or raw == "":
        return uuid7.uuid7()
    if isinstance(raw, str) and _CANONICAL_UUID.fullmatch(raw):
        return raw.lower()
    try:
        return uuid_lib.UUID(str(raw))
    except ValueError:
        raise InvalidPayload(f"Invalid payload: event {index} has an invalid uuid.") from None


def _elements_chain(raw: dict[str, Any], properties: dict[str, Any]) -> str:
    """posthog-js sends `$elements_chain` (newer) or `$elements` (older); exports carry `elements_chain`."""
    chain = properties.pop("$elements_chain", None) or raw.get("elements_chain")
    elements = properties.pop("$elements", None)
    if isinstance(chain, str) and chain:
        return chain.replace("\x00", "\ufffd")
    return chain_from_sdk_elements(elements).replace("\x00", "\ufffd") if elements else ""


def normalize_event(
    raw: dict[str, Any], *, index: int, now: datetime, sent_at: datetime | None, ip: str | None = None
) -> CapturedEvent:
    name = raw.get("event")
    if not isinstance(name, str) or not name.strip():
        raise InvalidPayload('Invalid payload: All events must have the event name field "event"!')
    properties = raw.get("properties") or {}
    if not isinstance(properties, dict):
        raise InvalidPayload(f"Invalid payload: event {index} has properties that are not an object.")
    properties = dict(properties)
    candidates = (raw.get("distinct_id"), raw.get("$distinct_id"), properties.get("distinct_id"))
    distinct_id = next((found for c in candidates if (found := _as_id(c)) is not None), None)
    if distinct_id is None:
        raise InvalidPayload('Invalid payload: All events must have the event field "distinct_id"!')
    # Some SDKs (posthog-python's `set`) send person updates at the top level.
    for key in ("$set", "$set_once"):
        if isinstance(raw.get(key), dict):
            inner = properties.get(key)
            properties[key] = {**raw[key], **(inner if isinstance(inner, dict) else {})}
    properties.pop("token", None)
    if ip and "$ip" not in properties:
        properties["$ip"] = ip
    session_id = properties.get("$session_id")
    return CapturedEvent(
        uuid=_uuid(raw.get("uuid"), index),
        event=clean_text(name, MAX_EVENT_NAME),
        distinct_id=distinct_id,
        timestamp=event_time(raw, properties, now, sent_at),
        properties=properties,
        elements_chain=_elements_chain(raw, properties),
        session_id=clean_text(str(session_id), 200) if session_id not in (None, "") else None,
    )


def normalize_events(
    raws: list[dict[str, Any]], *, now: datetime, sent_at: datetime | None, ip: str | None = None
) -> list[CapturedEvent]:
    return [normalize_event(raw, index=i, now=now, sent_at=sent_at, ip=ip) for i, raw in enumerate(raws)]
