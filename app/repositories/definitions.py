"""Event and property definitions. Every statement starts from `team_id == project.id`.

List statements are built from a `DefinitionFilters` value the services parse from the request, so
the filters' SQL lives here and their rules (validation, defaults) in the services.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    String,
    cast,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONPATH
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.models import Event, EventDefinition, Insight, InsightViewed, User

Owner = aliased(User, name="owner")
Updater = aliased(User, name="updater")
Verifier = aliased(User, name="verifier")


def like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def name_matches_all(column: Any, tokens: Sequence[str]) -> list[ColumnElement[bool]]:
    """Every token a case-insensitive substring of the name (PostHog's term search)."""
    return [column.ilike(literal(f"%{like_escape(token)}%", String), escape="\\") for token in tokens]


@dataclass(frozen=True, slots=True)
class DefinitionFilters:
    tokens: tuple[str, ...] = ()
    posthog_events: bool | None = None  # True: names starting with `$`; False: the others
    exclude_hidden: bool = False
    verified: bool | None = None
    names: tuple[str, ...] = ()
    excluded_names: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    # (column name, descending) pairs, e.g. ("last_seen_at::date", True)
    ordering: tuple[tuple[str, bool], ...] = field(default=(("last_seen_at::date", True), ("name", False)))


_ORDER_COLUMNS: dict[str, Any] = {
    "name": EventDefinition.name,
    "last_seen_at": EventDefinition.last_seen_at,
    "last_seen_at::date": cast(func.timezone("UTC", EventDefinition.last_seen_at), Date),
    "created_at": EventDefinition.created_at,
    "created_at::date": cast(func.timezone("UTC", EventDefinition.created_at), Date),
}
ORDERING_FIELDS = tuple(_ORDER_COLUMNS)


def _event_conditions(team_id: int, filters: DefinitionFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [EventDefinition.team_id == team_id]
    where += name_matches_all(EventDefinition.name, filters.tokens)
    if filters.posthog_events is not None:
        posthog = EventDefinition.name.startswith("$", autoescape=True)
        where.append(posthog if filters.posthog_events else not_(posthog))
    if filters.exclude_hidden:
        where.append(EventDefinition.hidden.is_(False))
    if filters.verified is not None:
        where.append(EventDefinition.verified.is_(filters.verified))
    if filters.names:
        where.append(EventDefinition.name.in_(filters.names))
    if filters.excluded_names:
        where.append(EventDefinition.name.not_in(filters.excluded_names))
    if filters.tags:
        where.append(EventDefinition.tags.overlap(list(filters.tags)))
    return where


def _with_users() -> Select[EventDefinition, User, User, User]:
    return (
        select(EventDefinition, Owner, Updater, Verifier)
        .outerjoin(Owner, Owner.id == EventDefinition.owner_id)
        .outerjoin(Updater, Updater.id == EventDefinition.updated_by_id)
        .outerjoin(Verifier, Verifier.id == EventDefinition.verified_by_id)
    )


EventRow = tuple[EventDefinition, User | None, User | None, User | None]


def _order(filters: DefinitionFilters) -> list[Any]:
    """Nulls last when descending, first when ascending (PostHog's), and `name` as the tiebreaker."""
    clauses = []
    for name, descending in filters.ordering:
        column = _ORDER_COLUMNS[name]
        clauses.append(column.desc().nulls_last() if descending else column.asc().nulls_first())
    if not any(name == "name" for name, _ in filters.ordering):
        clauses.append(EventDefinition.name.asc())
    return clauses


async def event_page(
    session: AsyncSession, team_id: int, filters: DefinitionFilters, limit: int, offset: int
) -> tuple[int, list[EventRow]]:
    where = _event_conditions(team_id, filters)
    count = await session.scalar(select(func.count()).select_from(EventDefinition).where(*where))
    statement = _with_users().where(*where).order_by(*_order(filters)).limit(limit).offset(offset)
    rows = (await session.execute(statement)).all()
    return int(count or 0), [(r[0], r[1], r[2], r[3]) for r in rows]


async def event_row(
    session: AsyncSession, team_id: int, *, definition_id: uuid.UUID | None = None, name: str | None = None
) -> EventRow | None:
    statement = _with_users().where(EventDefinition.team_id == team_id)
    if definition_id is not None:
        statement = statement.where(EventDefinition.id == definition_id)
    if name is not None:
        statement = statement.where(EventDefinition.name == name)
    row = (await session.execute(statement)).first()
    return None if row is None else (row[0], row[1], row[2], row[3])


async def event_name_taken(session: AsyncSession, team_id: int, name: str) -> bool:
    found = await session.scalar(
        select(EventDefinition.id).where(EventDefinition.team_id == team_id, EventDefinition.name == name)
    )
    return found is not None


async def events_for_update(
    session: AsyncSession, team_id: int, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, EventDefinition]:
    statement = select(EventDefinition).where(EventDefinition.team_id == team_id, EventDefinition.id.in_(ids))
    return {d.id: d for d in (await session.scalars(statement.with_for_update()))}


# --- metrics ---------------------------------------------------------------------------------------

# Insight queries and legacy filters name an event as an EventsNode's `event` or an entity's `id`.
_USES_EVENT = '$.** ? ((@.kind == "EventsNode" && @.event == $name) || (@.type == "events" && @.id == $name))'


def _insight_uses(name: str) -> ColumnElement[bool]:
    path = cast(literal(_USES_EVENT, String), JSONPATH)
    variables = func.jsonb_build_object("name", literal(name, String))
    return or_(
        func.coalesce(func.jsonb_path_exists(Insight.query, path, variables), false()),
        func.coalesce(func.jsonb_path_exists(Insight.filters, path, variables), false()),
    )


async def event_volume(
    session: AsyncSession, team_id: int, name: str, since: datetime, until: datetime
) -> tuple[int, datetime | None]:
    """Events named `name` in [since, until] and the latest one ever (both off the event index)."""
    volume = await session.scalar(
        select(func.count()).where(
            Event.team_id == team_id, Event.event == name, Event.timestamp >= since, Event.timestamp <= until
        )
    )
    latest = await session.scalar(
        select(func.max(Event.timestamp)).where(Event.team_id == team_id, Event.event == name)
    )
    return int(volume or 0), latest


async def insight_usage(session: AsyncSession, team_id: int, name: str, since: datetime) -> tuple[int, int]:
    """(live insights using the event, those of them viewed or changed since `since`)."""
    recently_viewed = exists(
        select(InsightViewed.id).where(
            InsightViewed.team_id == team_id,
            InsightViewed.insight_id == Insight.id,
            InsightViewed.last_viewed_at >= since,
        )
    )
    recent = or_(Insight.last_modified_at >= since, recently_viewed)
    statement = select(func.count(), func.count().filter(recent)).where(
        Insight.team_id == team_id, Insight.deleted.is_(False), _insight_uses(name)
    )
    total, used = (await session.execute(statement)).one()
    return int(total), int(used)
