"""Event and property definitions kept up to date from ingested events, cheaply.

Each process remembers what it has already written (`DefinitionsCache`): an event name's `last_seen_at`
is rewritten at most once an hour, a property definition once it has a type, an event→property link
once. Most batches therefore write nothing here. Upserts run in their own short transaction after the
events committed (definitions are derived data: a failure here never loses an event, and what was not
written is written with the next batch that carries it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.ingestion.events import CapturedEvent, clean_text
from app.models.definitions import PropertyDefinition

LAST_SEEN_RESOLUTION = timedelta(hours=1)
MAX_CACHED = 200_000
MAX_NAME = 400
# Containers of person updates and internal lists: not properties anyone filters events on.
SKIPPED_PROPERTIES = frozenset({"$set", "$set_once", "$unset", "$elements", "$elements_chain", "$groups"})
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
# Epoch seconds between 2000 and 2100, for numeric properties whose name says they are times.
_EPOCH_RANGE = (946_684_800, 4_102_444_800)


def property_type(key: str, value: Any) -> str | None:
    """PostHog's inference from a first value: Boolean, Numeric, DateTime or String (None: unknown)."""
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int | float):
        lowered = key.lower()
        if ("time" in lowered or "date" in lowered) and _EPOCH_RANGE[0] <= value <= _EPOCH_RANGE[1]:
            return "DateTime"
        return "Numeric"
    if isinstance(value, str):
        if key.startswith(("utm_", "$initial_utm_")):
            return "String"
        if value.strip().lower() in ("true", "false"):
            return "Boolean"
        return "DateTime" if _DATETIME.match(value.strip()) else "String"
    return None


@dataclass(slots=True)
class DefinitionRows:
    events: dict[str, datetime] = field(default_factory=dict)  # name → latest timestamp
    properties: dict[tuple[int, str], str | None] = field(default_factory=dict)  # (type, name) → type
    links: set[tuple[str, str]] = field(default_factory=set)  # (event, property)

    @property
    def empty(self) -> bool:
        return not (self.events or self.properties or self.links)


@dataclass
class DefinitionsCache:
    """What this process has written, per project (bounded: forgotten wholesale when full)."""

    last_seen: dict[tuple[int, str], datetime] = field(default_factory=dict)
    typed: dict[tuple[int, int, str], bool] = field(default_factory=dict)
    # Per (project, event): property keys whose link is written and whose definition has a type, and
    # the skipped ones.
    complete: dict[tuple[int, str], set[str]] = field(default_factory=dict)

    def pending(self, team_id: int, events: list[CapturedEvent]) -> DefinitionRows:
        rows = DefinitionRows()
        person_values: dict[str, Any] = {}
        for event in events:
            written = self.last_seen.get((team_id, event.event))
            if written is None or event.timestamp > written + LAST_SEEN_RESOLUTION:
                latest = rows.events.get(event.event)
                rows.events[event.event] = max(latest, event.timestamp) if latest else event.timestamp
            # Checked in C, allocating nothing: the common case (every key known) costs no Python loop.
            known = self.complete.get((team_id, event.event), SKIPPED_PROPERTIES)
            if not event.properties.keys() <= known:
                for key in event.properties.keys() - known:
                    self._property(rows, team_id, PropertyDefinition.EVENT, key, event.properties[key])
                    rows.links.add((event.event, clean_text(key, MAX_NAME)))
            if "$set" in event.properties or "$set_once" in event.properties:
                set_, set_once, _ = event.person_updates()
                person_values.update(set_once)
                person_values.update(set_)
        for key, value in person_values.items():
            self._property(rows, team_id, PropertyDefinition.PERSON, key, value)
        return rows

    def _property(self, rows: DefinitionRows, team_id: int, kind: int, key: str, value: Any) -> None:
        key = clean_text(key, MAX_NAME)
        if self.typed.get((team_id, kind, key)):
            return
        if rows.properties.get((kind, key)) is None:
            rows.properties[(kind, key)] = property_type(key, value)

    def written(self, team_id: int, rows: DefinitionRows) -> None:
        if len(self.last_seen) + len(self.typed) + len(self.complete) > MAX_CACHED:
            self.last_seen.clear()
            self.typed.clear()
            self.complete.clear()
        for name, seen in rows.events.items():
            self.last_seen[(team_id, name)] = max(seen, self.last_seen.get((team_id, name), seen))
        for (kind, key), inferred in rows.properties.items():
            self.typed[(team_id, kind, key)] = inferred is not None
        for event, key in rows.links:
            if self.typed.get((team_id, PropertyDefinition.EVENT, key)):
                self.complete.setdefault((team_id, event), set(SKIPPED_PROPERTIES)).add(key)


UPSERT_EVENT_DEFINITIONS = """
INSERT INTO event_definitions (id, team_id, name, last_seen_at)
SELECT gen_random_uuid(), $1, n, s FROM unnest($2::text[], $3::timestamptz[]) AS t(n, s) ORDER BY n
ON CONFLICT (team_id, name) DO UPDATE
SET last_seen_at = GREATEST(event_definitions.last_seen_at, EXCLUDED.last_seen_at)
"""
UPSERT_PROPERTY_DEFINITIONS = """
INSERT INTO property_definitions (id, team_id, type, name, property_type, is_numerical)
SELECT gen_random_uuid(), $1, k, n, p, p IS NOT DISTINCT FROM 'Numeric'
FROM unnest($2::smallint[], $3::text[], $4::text[]) AS t(k, n, p) ORDER BY k, n
ON CONFLICT (team_id, type, name) DO UPDATE
SET property_type = EXCLUDED.property_type, is_numerical = EXCLUDED.is_numerical
WHERE property_definitions.property_type IS NULL AND EXCLUDED.property_type IS NOT NULL
"""
INSERT_EVENT_PROPERTIES = """
INSERT INTO event_properties (team_id, event, property)
SELECT $1, e, p FROM unnest($2::text[], $3::text[]) AS t(e, p) ORDER BY e, p
ON CONFLICT DO NOTHING
"""


async def upsert(connection: Any, team_id: int, rows: DefinitionRows) -> None:
    """Writes `rows` (call inside a transaction); sorted inserts keep concurrent batches deadlock-free."""
    if rows.events:
        names = sorted(rows.events)
        await connection.execute(UPSERT_EVENT_DEFINITIONS, team_id, names, [rows.events[n] for n in names])
    if rows.properties:
        keys = sorted(rows.properties)
        await connection.execute(
            UPSERT_PROPERTY_DEFINITIONS,
            team_id,
            [kind for kind, _ in keys],
            [name for _, name in keys],
            [rows.properties[key] for key in keys],
        )
    if rows.links:
        links = sorted(rows.links)
        await connection.execute(
            INSERT_EVENT_PROPERTIES, team_id, [e for e, _ in links], [p for _, p in links]
        )


REFRESH_VOLUMES = """
WITH volumes AS (
    SELECT team_id, event, count(*) AS n FROM events
    WHERE timestamp >= now() - interval '30 days' AND timestamp < now() + interval '1 day'
    GROUP BY team_id, event
)
UPDATE event_definitions AS d
SET volume_30_day = coalesce(v.n, 0)
FROM event_definitions AS e LEFT JOIN volumes AS v ON v.team_id = e.team_id AND v.event = e.name
WHERE d.id = e.id AND d.volume_30_day IS DISTINCT FROM coalesce(v.n, 0)
"""


async def refresh_volumes(connection: Any) -> None:
    """Sets every event definition's `volume_30_day` from the events (the worker runs this periodically)."""
    await connection.execute(REFRESH_VOLUMES)
