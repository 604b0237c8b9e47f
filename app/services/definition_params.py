"""Query-string parsing shared by the definition lists: search terms, JSON lists, booleans, UUIDs."""

from __future__ import annotations

import uuid

import orjson

from app.errors import NotFound, ValidationError
from app.query.normalize import check_text

MAX_SEARCH = 1000
MAX_LIST = 1000


def search_tokens(search: str | None) -> tuple[str, ...]:
    """Whitespace-separated terms (a trailing space or `%20` adds nothing)."""
    if not search:
        return ()
    check_text(search, "search", max_length=MAX_SEARCH)
    return tuple(search.split())


def json_names(raw: str | None, attr: str) -> tuple[str, ...]:
    """A JSON list of strings, or (as PostHog's `names` also accepts) comma-separated names."""
    if not raw:
        return ()
    if raw.lstrip().startswith("["):
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ValidationError("Must be a JSON list of strings.", attr=attr) from None
        if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
            raise ValidationError("Must be a JSON list of strings.", attr=attr)
        names = parsed
    else:
        names = [name for name in raw.split(",") if name]
    if len(names) > MAX_LIST:
        raise ValidationError(f"At most {MAX_LIST} names are allowed.", attr=attr)
    return tuple(dict.fromkeys(check_text(name, attr, max_length=400) for name in names))


def boolean(raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    return raw.strip().lower() in ("true", "1", "yes")


def object_id(raw: str) -> uuid.UUID:
    """A definition id from the path; anything but a UUID cannot name one (404)."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound() from None
