"""Helpers for query tests: run a query payload through the whole engine on a real connection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.query.api import TeamContext, parse_query, prepare_query

RunQuery = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def run_query(engine: AsyncEngine) -> RunQuery:
    async def run(
        payload: dict[str, Any],
        team: TeamContext,
        now: datetime,
        filters_override: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        prepared = prepare_query(parse_query(payload), team, now=now, filters_override=filters_override)
        async with engine.connect() as connection:
            return await prepared.run(connection)

    return run
