"""Events and persons written straight into Postgres (no ingestion), for query result tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import Event, Person, PersonDistinctId


@dataclass
class EventRow:
    event: str
    timestamp: datetime
    person: uuid.UUID | None
    properties: dict[str, Any] = field(default_factory=dict)
    distinct_id: str = ""
    elements_chain: str = ""
    session_id: str | None = None
    uuid: uuid.UUID = field(default_factory=uuid.uuid4)  # fixed up front, so oracles can order by it

    def as_row(self, team_id: int) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "team_id": team_id,
            "event": self.event,
            "distinct_id": self.distinct_id or str(self.person),
            "person_id": self.person,
            "timestamp": self.timestamp,
            "properties": self.properties,
            "elements_chain": self.elements_chain,
            "$session_id": self.session_id,
        }


@dataclass
class PersonRow:
    uuid: uuid.UUID
    properties: dict[str, Any]


def new_person(properties: dict[str, Any] | None = None) -> PersonRow:
    return PersonRow(uuid=uuid.uuid4(), properties=properties or {})


async def insert_persons(engine: AsyncEngine, team_id: int, persons: list[PersonRow]) -> None:
    if not persons:
        return
    async with engine.begin() as connection:
        await connection.execute(
            insert(Person),
            [{"uuid": p.uuid, "team_id": team_id, "properties": p.properties} for p in persons],
        )
        await connection.execute(
            insert(PersonDistinctId),
            [{"team_id": team_id, "distinct_id": str(p.uuid), "person_id": p.uuid} for p in persons],
        )


async def insert_events(engine: AsyncEngine, team_id: int, events: list[EventRow]) -> None:
    if not events:
        return
    async with engine.begin() as connection:
        await connection.execute(insert(Event.__table__), [e.as_row(team_id) for e in events])
