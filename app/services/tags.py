"""Tags shared by every taggable (insights, dashboards, event definitions).

Tags are stored as a sorted, de-duplicated `text[]` on each object; PostHog normalizes with
`strip().lower()` and drops blanks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import orjson

from app.errors import ValidationError

MAX_TAG_LENGTH = 255
MAX_TAGS = 100
MAX_BULK_IDS = 500

BulkTagAction = Literal["add", "remove", "set"]


def list_param(raw: str) -> list[Any]:
    """A list-valued query parameter as PostHog's lists take it: a JSON list, else comma-separated."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = raw.split(",") if raw else []
    return value if isinstance(value, list) else [value]


def tags_param(raw: str | None) -> list[str]:
    """`?tags=` of a list endpoint: `["a","b"]` or `a,b`, normalized."""
    return normalize_tags(list_param(raw)) if raw else []


def normalize_tags(tags: Iterable[object], attr: str = "tags") -> list[str]:
    normalized: set[str] = set()
    for index, tag in enumerate(tags):
        if not isinstance(tag, str):
            raise ValidationError("Not a valid string.", attr=f"{attr}__{index}")
        cleaned = tag.strip().lower()
        if len(cleaned) > MAX_TAG_LENGTH:
            raise ValidationError(
                f"Ensure this field has no more than {MAX_TAG_LENGTH} characters.",
                code="max_length",
                attr=f"{attr}__{index}",
            )
        if cleaned:
            normalized.add(cleaned)
    return sorted(normalized)


def apply_tag_action(current: Iterable[str], action: BulkTagAction, tags: list[str]) -> list[str]:
    """`add` = union, `remove` = difference, `set` = replace; `tags` must already be normalized."""
    if action == "add":
        return sorted(set(current) | set(tags))
    if action == "remove":
        return sorted(set(current) - set(tags))
    return sorted(set(tags))


def validate_bulk_request(ids: list[object], action: BulkTagAction, tags: list[str]) -> None:
    if not ids:
        raise ValidationError("This list may not be empty.", code="empty", attr="ids")
    if len(ids) > MAX_BULK_IDS:
        raise ValidationError(f"Ensure this field has no more than {MAX_BULK_IDS} elements.", attr="ids")
    if len(tags) > MAX_TAGS:
        raise ValidationError(f"Ensure this field has no more than {MAX_TAGS} elements.", attr="tags")
    if action in ("add", "remove") and not tags:
        raise ValidationError("Tags are required for add and remove.", attr="tags")
