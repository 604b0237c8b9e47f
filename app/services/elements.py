"""Elements: CRUD of stored elements and the values of element attributes seen in click events.

Writes flush; the request's session commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound, ValidationError
from app.models import Element, Project
from app.query import element_stats, execute
from app.repositories import elements as repository
from app.schemas.generated.definitions import ElementWrite

# `selector` is computed from a chain, never stored in one: there is nothing to list.
UNLISTABLE_KEYS = frozenset({"selector"})


def serialize(element: Element) -> dict[str, Any]:
    return {
        "id": element.id,
        "text": element.text,
        "tag_name": element.tag_name,
        "attr_class": element.attr_class,
        "href": element.href,
        "attr_id": element.attr_id,
        "nth_child": element.nth_child,
        "nth_of_type": element.nth_of_type,
        "attributes": element.attributes or {},
        "order": element.order,
    }


def _apply(element: Element, body: ElementWrite) -> None:
    fields = body.model_dump(exclude_unset=True)
    if "attr_class" in fields:
        fields["attr_class"] = fields["attr_class"] or None  # PostHog stores "no classes" as null
    if "attributes" in fields:
        attributes = fields["attributes"] or {}
        if not all(isinstance(value, str) for value in attributes.values()):
            raise ValidationError("Attribute values must be strings.", attr="attributes")
        fields["attributes"] = attributes
    for name, value in fields.items():
        setattr(element, name, value)


async def create(session: AsyncSession, project: Project, body: ElementWrite) -> Element:
    element = Element(team_id=project.id, attributes={})
    _apply(element, body)
    session.add(element)
    await session.flush()
    return element


async def get(session: AsyncSession, project: Project, element_id: int) -> Element:
    element = await repository.get(session, project.id, element_id)
    if element is None:
        raise NotFound()
    return element


async def update(session: AsyncSession, project: Project, element_id: int, body: ElementWrite) -> Element:
    element = await get(session, project, element_id)
    _apply(element, body)
    await session.flush()
    return element


async def delete(session: AsyncSession, project: Project, element_id: int) -> None:
    await session.delete(await get(session, project, element_id))
    await session.flush()


async def values(session: AsyncSession, project: Project, key: str | None, value: str | None) -> list[Any]:
    """`[{"name": ...}]`, most frequent first (at most 100)."""
    if key in UNLISTABLE_KEYS:
        return []
    if key not in element_stats.VALUE_KEYS:
        raise ValidationError(f"key must be one of {', '.join(element_stats.VALUE_KEYS)}", attr="key")
    connection = await session.connection()
    rows = await execute.fetch_all(connection, element_stats.values_statement(project.id, key, value))
    return [{"name": row.name} for row in rows]
