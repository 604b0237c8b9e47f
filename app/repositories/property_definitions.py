"""Property definitions, the events they were seen with, and property values. Every statement starts
from `team_id == project.id`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, Text, and_, exists, func, literal, not_, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Event, EventDefinition, EventProperty, PropertyDefinition, User
from app.repositories.definitions import Updater, like_escape, name_matches_all

PropertyRow = tuple[PropertyDefinition, User | None, bool | None]


@dataclass(frozen=True, slots=True)
class PropertyFilters:
    type: int = PropertyDefinition.EVENT
    tokens: tuple[str, ...] = ()
    event_names: tuple[str, ...] = ()
    only_seen_with_events: bool = False
    is_numerical: bool | None = None
    excluded_names: tuple[str, ...] = ()


def _seen_with(team_id: int, events: Sequence[str]) -> ColumnElement[bool]:
    return exists(
        select(EventProperty.property).where(
            EventProperty.team_id == team_id,
            EventProperty.event.in_(list(events)),
            EventProperty.property == PropertyDefinition.name,
        )
    )


async def page(
    session: AsyncSession, team_id: int, filters: PropertyFilters, limit: int, offset: int
) -> tuple[int, list[PropertyRow]]:
    """With `event_names`, properties seen with those events come first (or only them)."""
    where: list[ColumnElement[bool]] = [
        PropertyDefinition.team_id == team_id,
        PropertyDefinition.type == filters.type,
        *name_matches_all(PropertyDefinition.name, filters.tokens),
    ]
    if filters.is_numerical is not None:
        where.append(PropertyDefinition.is_numerical.is_(filters.is_numerical))
    if filters.excluded_names:
        where.append(PropertyDefinition.name.not_in(filters.excluded_names))
    seen: ColumnElement[Any] = literal(None)
    order: list[Any] = []
    if filters.event_names:
        seen = _seen_with(team_id, filters.event_names)
        if filters.only_seen_with_events:
            where.append(seen)
        order.append(seen.desc())
    count = await session.scalar(select(func.count()).select_from(PropertyDefinition).where(*where))
    statement = (
        select(PropertyDefinition, Updater, seen.label("seen"))
        .outerjoin(Updater, Updater.id == PropertyDefinition.updated_by_id)
        .where(*where)
        .order_by(*order, PropertyDefinition.name)
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.execute(statement)).all()
    return int(count or 0), [(r[0], r[1], r[2]) for r in rows]


async def row(session: AsyncSession, team_id: int, definition_id: uuid.UUID) -> PropertyRow | None:
    statement = (
        select(PropertyDefinition, Updater)
        .outerjoin(Updater, Updater.id == PropertyDefinition.updated_by_id)
        .where(PropertyDefinition.team_id == team_id, PropertyDefinition.id == definition_id)
    )
    found = (await session.execute(statement)).first()
    return None if found is None else (found[0], found[1], None)


async def typed_events(
    session: AsyncSession, team_id: int, core_events: Sequence[str]
) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Non-hidden events to type (custom ones and the core `core_events`), by name, each with the
    event properties seen with it (name, inferred property_type) by name; `$` properties (set by the
    SDKs themselves) are left out."""
    events = select(EventDefinition.name).where(
        EventDefinition.team_id == team_id,
        EventDefinition.hidden.is_(False),
        or_(
            not_(EventDefinition.name.startswith("$", autoescape=True)),
            EventDefinition.name.in_(list(core_events)),
        ),
    )
    names = list(await session.scalars(events.order_by(EventDefinition.name)))
    if not names:
        return []
    statement = (
        select(EventProperty.event, EventProperty.property, PropertyDefinition.property_type)
        .outerjoin(
            PropertyDefinition,
            and_(
                PropertyDefinition.team_id == team_id,
                PropertyDefinition.type == PropertyDefinition.EVENT,
                PropertyDefinition.name == EventProperty.property,
            ),
        )
        .where(
            EventProperty.team_id == team_id,
            EventProperty.event.in_(names),
            not_(EventProperty.property.startswith("$", autoescape=True)),
        )
        .order_by(EventProperty.event, EventProperty.property)
    )
    properties: dict[str, list[tuple[str, str | None]]] = {name: [] for name in names}
    for event, prop, kind in await session.execute(statement):
        properties[event].append((prop, kind))
    return [(name, properties[name]) for name in names]


async def event_property_values(
    session: AsyncSession,
    team_id: int,
    key: str,
    *,
    since: datetime,
    events: Sequence[str],
    contains: str | None,
    limit: int,
) -> list[Any]:
    """The most frequent values of event property `key` since `since` (JSON values; strings as text)."""
    value = Event.properties.op("->", return_type=JSONB)(literal(key, String))
    as_text = Event.properties.op("->>", return_type=Text)(literal(key, String))
    where: list[ColumnElement[bool]] = [
        Event.team_id == team_id,
        Event.timestamp >= since,
        func.jsonb_typeof(value).in_(["string", "number", "boolean"]),
    ]
    if events:
        where.append(Event.event.in_(list(events)))
    if contains:
        escaped = like_escape(contains)
        where.append(as_text.ilike(literal(f"%{escaped}%", String), escape="\\"))
    # Grouped in an outer query: the key is bound once, so the grouped expression is one column.
    found = select(value.label("value")).where(*where).subquery("found")
    statement = (
        select(found.c.value)
        .group_by(found.c.value)
        .order_by(func.count().desc(), found.c.value)
        .limit(limit)
    )
    return list(await session.scalars(statement))
