"""Interval buckets in the project's timezone, including a DST change, against hand-built events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.query.api import TeamContext
from tests.factories.events import EventRow, insert_events, insert_persons, new_person
from tests.factories.identity import Team
from tests.query.conftest import RunQuery

LA = ZoneInfo("America/Los_Angeles")


def query(
    interval: str, date_from: str, date_to: str | None = None, explicit: bool = False
) -> dict[str, object]:
    return {
        "kind": "TrendsQuery",
        "series": [{"kind": "EventsNode", "event": "e"}],
        "interval": interval,
        "dateRange": {"date_from": date_from, "date_to": date_to, "explicitDate": explicit},
    }


async def seed_at(engine: AsyncEngine, team: Team, moments: list[datetime]) -> None:
    person = new_person()
    await insert_persons(engine, team.id, [person])
    await insert_events(engine, team.id, [EventRow("e", m, person.uuid) for m in moments])


class TestDaylightSaving:
    async def test_days_around_spring_forward_are_local_days(
        self, engine: AsyncEngine, team: Team, run_query: RunQuery
    ) -> None:
        local = [
            datetime(2024, 3, 9, 23, 30),
            datetime(2024, 3, 10, 0, 30),
            datetime(2024, 3, 10, 23, 30),  # PDT now: 06:30 UTC on the 11th
            datetime(2024, 3, 11, 0, 15),
        ]
        await seed_at(engine, team, [m.replace(tzinfo=LA) for m in local])
        body = await run_query(
            query("day", "2024-03-09", "2024-03-11"),
            TeamContext(id=team.id, timezone="America/Los_Angeles"),
            datetime(2024, 3, 20, tzinfo=UTC),
        )
        expected = {date(2024, 3, 9): 1, date(2024, 3, 10): 2, date(2024, 3, 11): 1}
        [item] = body["results"]
        assert item["days"] == ["2024-03-09", "2024-03-10", "2024-03-11"]
        assert item["data"] == [float(expected[date.fromisoformat(d)]) for d in item["days"]]

    async def test_hours_skip_the_missing_hour(
        self, engine: AsyncEngine, team: Team, run_query: RunQuery
    ) -> None:
        # 09:00-12:00 UTC on 2024-03-10 is 01:00 PST, then 03:00, 04:00 PDT.
        moments = [datetime(2024, 3, 10, 9, 10, tzinfo=UTC), datetime(2024, 3, 10, 10, 5, tzinfo=UTC)]
        moments += [datetime(2024, 3, 10, 11, 59, tzinfo=UTC)]
        await seed_at(engine, team, moments)
        body = await run_query(
            query("hour", "2024-03-10T00:00:00", "2024-03-10T04:59:00", explicit=True),
            TeamContext(id=team.id, timezone="America/Los_Angeles"),
            datetime(2024, 3, 20, tzinfo=UTC),
        )
        [item] = body["results"]
        assert item["days"] == [f"2024-03-10 0{h}:00:00" for h in (0, 1, 3, 4)]
        assert item["data"] == [0.0, 1.0, 1.0, 1.0]
        assert item["labels"][1] == "10-Mar 01:00"


class TestIntervals:
    @pytest.mark.parametrize(("week_start_day", "first_bucket"), [(0, "2024-02-25"), (1, "2024-02-26")])
    async def test_weeks_start_on_the_project_week_start(
        self, engine: AsyncEngine, team: Team, run_query: RunQuery, week_start_day: int, first_bucket: str
    ) -> None:
        days = [datetime(2024, 3, d, 12, tzinfo=UTC) for d in (1, 3, 4, 10, 11, 17)]
        await seed_at(engine, team, days)
        body = await run_query(
            query("week", "2024-03-01", "2024-03-17"),
            TeamContext(id=team.id, week_start_day=week_start_day),
            datetime(2024, 3, 20, tzinfo=UTC),
        )
        [item] = body["results"]
        starts = [date.fromisoformat(d) for d in item["days"]]
        assert item["days"][0] == first_bucket
        expected = [
            float(sum(1 for d in days if start <= d.date() < start + timedelta(days=7))) for start in starts
        ]
        assert item["data"] == expected
        assert sum(item["data"]) == len(days)

    async def test_months(self, engine: AsyncEngine, team: Team, run_query: RunQuery) -> None:
        # 2024-01-31 22:00 UTC is already February 1st in Kolkata.
        moments = [datetime(2024, 1, 31, 22, tzinfo=UTC), datetime(2024, 1, 15, tzinfo=UTC)]
        moments += [datetime(2024, 3, 2, tzinfo=UTC)]
        await seed_at(engine, team, moments)
        body = await run_query(
            query("month", "2024-01-01", "2024-03-31"),
            TeamContext(id=team.id, timezone="Asia/Kolkata"),
            datetime(2024, 4, 2, tzinfo=UTC),
        )
        [item] = body["results"]
        assert item["days"] == ["2024-01-01", "2024-02-01", "2024-03-01"]
        assert item["labels"] == ["Jan 2024", "Feb 2024", "Mar 2024"]
        assert item["data"] == [1.0, 1.0, 1.0]

    async def test_minutes(self, engine: AsyncEngine, team: Team, run_query: RunQuery) -> None:
        now = datetime(2024, 3, 14, 15, 30, 20, tzinfo=UTC)
        await seed_at(engine, team, [now - timedelta(minutes=m, seconds=5) for m in (0, 0, 3, 9)])
        body = await run_query(query("minute", "-10M"), TeamContext(id=team.id), now)
        [item] = body["results"]
        assert len(item["data"]) == 11
        assert item["data"][-1] == 2.0
        assert item["data"][-4] == 1.0
        assert item["data"][-10] == 1.0
