"""Typed client code for a project's events (`/event_definitions/typescript|python|golang/`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Project
from app.models.base import utcnow
from app.repositories import property_definitions
from app.services.codegen import golang, python, typescript
from app.services.codegen.schema import CORE_EVENTS, EventSchema, Generated, PropertySchema, schema_hash

Generator = Callable[[list[EventSchema], datetime, int], str]
GENERATORS: dict[str, Generator] = {
    "typescript": typescript.generate,
    "python": python.generate,
    "golang": golang.generate,
}


async def schemas(session: AsyncSession, project: Project) -> list[EventSchema]:
    events = await property_definitions.typed_events(session, project.id, CORE_EVENTS)
    return [
        EventSchema(name, tuple(PropertySchema(prop, kind) for prop, kind in properties))
        for name, properties in events
    ]


async def generate(session: AsyncSession, project: Project, language: str) -> Generated:
    found = await schemas(session, project)
    content = GENERATORS[language](found, utcnow(), project.id)
    return Generated(content=content, event_count=len(found), schema_hash=schema_hash(found))
