"""Property definitions (event and person) and the values filter pickers offer for a property.

Writes flush; the request commits. Setting `property_type` keeps `is_numerical` in step with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound, ValidationError
from app.models import Project, PropertyDefinition, User
from app.models.base import utcnow
from app.query.normalize import check_text
from app.repositories import property_definitions as repository
from app.repositories.property_definitions import PropertyFilters, PropertyRow
from app.schemas.generated.definitions import PropertyDefinitionUpdate
from app.schemas.insights import user_basic
from app.services.definition_params import boolean, json_names, object_id, search_tokens
from app.services.tags import normalize_tags

TYPES = {"event": PropertyDefinition.EVENT, "person": PropertyDefinition.PERSON}
TYPE_NAMES = {number: name for name, number in TYPES.items()}
NUMERICAL_TYPES = frozenset({"Numeric", "Duration"})
VALUES_WINDOW = timedelta(days=7)
VALUES_LIMIT = 10


@dataclass(frozen=True, slots=True)
class ListParams:
    type: str | None = None
    search: str | None = None
    event_names: str | None = None
    filter_by_event_names: str | None = None
    is_numerical: str | None = None
    excluded_properties: str | None = None


def parse_filters(params: ListParams) -> PropertyFilters:
    kind = params.type or "event"
    if kind not in TYPES:
        raise ValidationError("type must be one of: event, person.", code="invalid_choice", attr="type")
    return PropertyFilters(
        type=TYPES[kind],
        tokens=search_tokens(params.search),
        event_names=json_names(params.event_names, "event_names"),
        only_seen_with_events=boolean(params.filter_by_event_names) is True,
        is_numerical=boolean(params.is_numerical),
        excluded_names=json_names(params.excluded_properties, "excluded_properties"),
    )


def serialize(row: PropertyRow) -> dict[str, Any]:
    definition, updater, seen = row
    return {
        "id": str(definition.id),
        "name": definition.name,
        "type": TYPE_NAMES.get(definition.type, "event"),
        "is_numerical": definition.is_numerical,
        "property_type": definition.property_type,
        "tags": list(definition.tags or []),
        "description": definition.description,
        "updated_at": definition.updated_at,
        "updated_by": user_basic(updater),
        "is_seen_on_filtered_events": seen,
    }


async def page(
    session: AsyncSession, project: Project, params: ListParams, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    count, rows = await repository.page(session, project.id, parse_filters(params), limit, offset)
    return count, [serialize(row) for row in rows]


async def get(session: AsyncSession, project: Project, raw_id: str) -> PropertyRow:
    row = await repository.row(session, project.id, object_id(raw_id))
    if row is None:
        raise NotFound()
    return row


async def update(
    session: AsyncSession, project: Project, user: User, raw_id: str, body: PropertyDefinitionUpdate
) -> PropertyRow:
    definition = (await get(session, project, raw_id))[0]
    fields = body.model_dump(exclude_unset=True)
    if "description" in fields:
        definition.description = fields["description"]
    if fields.get("tags") is not None:
        definition.tags = normalize_tags(fields["tags"])
    if "property_type" in fields:
        definition.property_type = fields["property_type"]
        definition.is_numerical = fields["property_type"] in NUMERICAL_TYPES
    definition.updated_at, definition.updated_by_id = utcnow(), user.id
    await session.flush()
    return await get(session, project, raw_id)


async def event_values(
    session: AsyncSession, project: Project, key: str | None, value: str | None, events: list[str]
) -> list[dict[str, Any]]:
    """`[{"name": v}]`: the property's most frequent values over the last 7 days (optionally only on
    `events`, optionally containing `value`, case-insensitively)."""
    if not key:
        raise ValidationError("This field is required.", code="required", attr="key")
    check_text(key, "key", max_length=400)
    if value:
        check_text(value, "value", max_length=1000)
    found = await repository.event_property_values(
        session,
        project.id,
        key,
        since=utcnow() - VALUES_WINDOW,
        events=[check_text(e, "event_name", max_length=400) for e in events],
        contains=value,
        limit=VALUES_LIMIT,
    )
    return [{"name": item} for item in found]
