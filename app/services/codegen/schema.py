"""What the typed-code generators share: the event schemas, their hash, and identifier rules.

Property shapes come from ingestion: each event's properties are the ones seen with it
(`event_properties`), typed by their inferred `property_type`. Ingestion does not record whether a
property appears on *every* event, so every property is optional; `required` stays in the schema
(and the hash) for the day it is known.
"""

from __future__ import annotations

import hashlib
import keyword
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import orjson

GENERATOR_VERSION = "1.0.0"
# PostHog types these core events even though their names start with `$`.
CORE_EVENTS = ("$pageview", "$pageleave", "$screen")
_WORDS = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True, slots=True)
class PropertySchema:
    name: str
    type: str | None  # String, Numeric, Boolean, DateTime, Duration… or None when never inferred
    required: bool = False


@dataclass(frozen=True, slots=True)
class EventSchema:
    name: str
    properties: tuple[PropertySchema, ...]


@dataclass(frozen=True, slots=True)
class Generated:
    content: str
    event_count: int
    schema_hash: str
    generator_version: str = GENERATOR_VERSION

    def as_dict(self) -> dict[str, object]:
        return {
            "content": self.content,
            "event_count": self.event_count,
            "schema_hash": self.schema_hash,
            "generator_version": self.generator_version,
        }


def schema_hash(schemas: Iterable[EventSchema]) -> str:
    """First 32 hex chars of SHA-256 over the canonical schema: changes exactly when the types do."""
    canonical = sorted(
        (
            {
                "event": schema.name,
                "properties": [
                    {"name": p.name, "type": p.type, "required": p.required}
                    for p in sorted(schema.properties, key=lambda p: p.name)
                ],
            }
            for schema in schemas
        ),
        key=lambda entry: str(entry["event"]),
    )
    payload = {"version": GENERATOR_VERSION, "schemas": canonical}
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def words(name: str) -> list[str]:
    """ASCII alphanumeric runs of a name: what identifiers are built from."""
    return _WORDS.findall(name)


def snake(name: str) -> str:
    return "_".join(word.lower() for word in words(name))


def pascal(name: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in words(name))


def python_parameter(name: str) -> str:
    """A keyword-argument name for a property (never a keyword, never leading underscores)."""
    identifier = snake(name) or "value"
    if identifier[0].isdigit():
        identifier = "p_" + identifier
    return (
        identifier + "_" if keyword.iskeyword(identifier) or keyword.issoftkeyword(identifier) else identifier
    )


def unique(candidates: Callable[[int], str], taken: set[str]) -> str:
    """`candidates(1)`, else `candidates(2)`, `(3)`… whichever is free; marks it taken."""
    number = 1
    while (name := candidates(number)) in taken:
        number += 1
    taken.add(name)
    return name


def numbered(base: str, separator: str = "_") -> Callable[[int], str]:
    return lambda n: base if n == 1 else f"{base}{separator}{n}"


def header_lines(kind: str, generated_at: datetime, project_id: int) -> list[str]:
    return [
        "GENERATED FILE - DO NOT EDIT",
        "",
        f"Typed {kind} for this project's events, from the event and property definitions seen",
        f"by ingestion. Generator version {GENERATOR_VERSION},"
        f" generated at {generated_at:%Y-%m-%dT%H:%M:%SZ}.",
        f"Regenerate: GET /api/projects/{project_id}/event_definitions/<typescript|python|golang>/",
    ]
