"""Reading back what ingestion stored."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


class Stored:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        async with self.engine.connect() as connection:
            result = await connection.execute(text(sql), params)
            return [dict(row._mapping) for row in result]

    async def events(self, team_id: int) -> list[dict[str, Any]]:
        return await self.rows(
            "SELECT uuid, event, distinct_id, person_id, timestamp, properties, elements_chain, "
            '"$session_id" FROM events WHERE team_id = :team ORDER BY timestamp, event',
            team=team_id,
        )

    async def count(self, table: str, team_id: int) -> int:
        assert table.isidentifier()
        rows = await self.rows(f"SELECT count(*) AS n FROM {table} WHERE team_id = :team", team=team_id)
        return int(rows[0]["n"])

    async def persons(self, team_id: int) -> dict[str, dict[str, Any]]:
        """distinct id → its person row."""
        rows = await self.rows(
            "SELECT d.distinct_id, p.uuid, p.properties, p.is_identified, p.created_at "
            "FROM person_distinct_ids d JOIN persons p ON p.team_id = d.team_id AND p.uuid = d.person_id "
            "WHERE d.team_id = :team",
            team=team_id,
        )
        return {row.pop("distinct_id"): row for row in rows}


@pytest.fixture
def stored(engine: AsyncEngine) -> Stored:
    return Stored(engine)
