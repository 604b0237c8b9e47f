from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from app.query.api import TeamContext
from tests.factories.events import EventRow, insert_events, insert_persons, new_person
from tests.factories.identity import Team
from tests.query.conftest import RunQuery

NOW = datetime(2024, 1, 10, 12, 0, tzinfo=UTC)


async def test_default_trends(engine: AsyncEngine, team: Team, run_query: RunQuery) -> None:
    person = new_person({"email": "a@b.c"})
    await insert_persons(engine, team.id, [person])
    day_before = NOW - timedelta(days=1)
    await insert_events(engine, team.id, [EventRow("$pageview", day_before, person.uuid) for _ in range(2)])
    body = await run_query(
        {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}]},
        TeamContext(id=team.id),
        NOW,
    )
    print(body)
    assert body["results"][0]["data"] == [0, 0, 0, 0, 0, 0, 2, 0]
