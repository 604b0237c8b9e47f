"""LifecycleQuery results on seeded events against the plain-Python oracle in `oracles`."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.query.api import TeamContext
from tests.factories.events import EventRow, insert_events, insert_persons, new_person
from tests.factories.identity import Team
from tests.query import dataset
from tests.query.conftest import RunQuery
from tests.query.dataset import NOW
from tests.query.oracles import STATUSES, Window, lifecycle, local

TIMEZONES = ["UTC", "America/Los_Angeles", "Asia/Kolkata"]


@pytest.fixture
async def data(engine: AsyncEngine, team: Team) -> dataset.Dataset:
    built = dataset.build()
    await dataset.seed(engine, team.id, built)
    return built


def query(event: str = "$pageview", **extra: Any) -> dict[str, Any]:
    return {"kind": "LifecycleQuery", "series": [{"kind": "EventsNode", "event": event}], **extra}


def window(tz: str, interval: str, days: int, week_start_day: int = 0) -> Window:
    today = local(NOW, tz).date()
    start = datetime.combine(today - timedelta(days=days), time())
    return Window(tz, interval, start, datetime.combine(today, time.max), week_start_day)


def of(data: dataset.Dataset, event: str = "$pageview") -> list[EventRow]:
    return [e for e in data.events if e.event == event]


def by_status(body: dict[str, Any]) -> dict[str, list[float]]:
    return {item["status"]: item["data"] for item in body["results"]}


class TestStatuses:
    @pytest.mark.parametrize("tz", TIMEZONES)
    async def test_daily_lifecycle(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery, tz: str
    ) -> None:
        body = await run_query(
            query(dateRange={"date_from": "-14d"}), TeamContext(id=team.id, timezone=tz), NOW
        )
        expected = lifecycle(of(data), window(tz, "day", 14))
        assert by_status(body) == expected
        assert [item["status"] for item in body["results"]] == list(STATUSES)
        for item in body["results"]:
            assert item["label"] == f"$pageview - {item['status']}"
            assert item["count"] == sum(item["data"])
            assert len(item["days"]) == len(item["labels"]) == 15
            assert item["action"]["id"] == "$pageview"
        assert all(v <= 0 for v in expected["dormant"])
        assert any(v < 0 for v in expected["dormant"])

    @pytest.mark.parametrize(("tz", "week_start_day"), [("America/Los_Angeles", 0), ("Asia/Kolkata", 1)])
    async def test_weekly_lifecycle(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery, tz: str, week_start_day: int
    ) -> None:
        context = TeamContext(id=team.id, timezone=tz, week_start_day=week_start_day)
        body = await run_query(
            query("signup", interval="week", dateRange={"date_from": "-21d"}), context, NOW
        )
        expected = lifecycle(of(data, "signup"), window(tz, "week", 21, week_start_day))
        assert by_status(body) == expected

    async def test_monthly_lifecycle(self, data: dataset.Dataset, team: Team, run_query: RunQuery) -> None:
        body = await run_query(
            query("purchase", interval="month", dateRange={"date_from": "-1mStart"}),
            TeamContext(id=team.id),
            NOW,
        )
        expected = lifecycle(
            of(data, "purchase"),
            Window("UTC", "month", datetime(2024, 2, 1), datetime(2024, 3, 14, 23, 59, 59)),
        )
        assert by_status(body) == expected
        assert body["results"][0]["days"] == ["2024-02-01", "2024-03-01"]

    async def test_toggled_lifecycles_keep_their_order(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery
    ) -> None:
        payload = query(lifecycleFilter={"toggledLifecycles": ["dormant", "new"]})
        body = await run_query(payload, TeamContext(id=team.id), NOW)
        expected = lifecycle(of(data), window("UTC", "day", 7))
        assert [(i["status"], i["data"]) for i in body["results"]] == [
            ("new", expected["new"]),
            ("dormant", expected["dormant"]),
        ]


class TestHandChecked:
    async def test_each_status_on_a_small_history(
        self, engine: AsyncEngine, team: Team, run_query: RunQuery
    ) -> None:
        """Days 10..14 of March; `a` is new on the 10th, `b` came back after a gap, `c` returns daily."""
        a, b, c = new_person(), new_person(), new_person()
        await insert_persons(engine, team.id, [a, b, c])
        days = {a.uuid: [10, 11], b.uuid: [1, 12], c.uuid: [9, 10, 11, 12, 13, 14]}
        await insert_events(
            engine,
            team.id,
            [EventRow("e", datetime(2024, 3, d, 9, tzinfo=UTC), p) for p, ds in days.items() for d in ds],
        )
        payload = {
            "kind": "LifecycleQuery",
            "series": [{"kind": "EventsNode", "event": "e"}],
            "dateRange": {"date_from": "2024-03-10", "date_to": "2024-03-14"},
        }
        got = by_status(await run_query(payload, TeamContext(id=team.id), NOW))
        assert got == {
            "new": [1, 0, 0, 0, 0],  # a on the 10th
            "returning": [1, 2, 1, 1, 1],  # c every day, a on the 11th
            "resurrecting": [0, 0, 1, 0, 0],  # b on the 12th (last seen on the 1st)
            "dormant": [0, 0, -1, -1, 0],  # a gone on the 12th, b on the 13th
        }

    async def test_days_across_fall_back_in_los_angeles(
        self, engine: AsyncEngine, team: Team, run_query: RunQuery
    ) -> None:
        """November 3, 2024 lasts 25 hours in Los Angeles; events near local midnight keep their day."""
        person, other = new_person(), new_person()
        await insert_persons(engine, team.id, [person, other])
        rows = [
            EventRow("e", datetime(2024, 11, 2, 7, 30, tzinfo=UTC), person.uuid),  # 00:30 PDT Nov 2
            EventRow("e", datetime(2024, 11, 3, 7, 30, tzinfo=UTC), person.uuid),  # 00:30 PDT Nov 3
            EventRow("e", datetime(2024, 11, 4, 7, 30, tzinfo=UTC), other.uuid),  # 23:30 PST Nov 3
            EventRow("e", datetime(2024, 11, 5, 8, 30, tzinfo=UTC), person.uuid),  # 00:30 PST Nov 5
        ]
        await insert_events(engine, team.id, rows)
        payload = {
            "kind": "LifecycleQuery",
            "series": [{"kind": "EventsNode", "event": "e"}],
            "dateRange": {"date_from": "2024-11-02", "date_to": "2024-11-05"},
        }
        context = TeamContext(id=team.id, timezone="America/Los_Angeles")
        got = by_status(await run_query(payload, context, datetime(2024, 11, 20, tzinfo=UTC)))
        expected = lifecycle(
            rows, Window("America/Los_Angeles", "day", datetime(2024, 11, 2), datetime(2024, 11, 5, 23, 59))
        )
        assert got == expected
        assert got["new"] == [1, 1, 0, 0]
        assert got["dormant"] == [0, 0, -2, 0]
        assert got["resurrecting"] == [0, 0, 0, 1]


class TestFirstSeen:
    """`person_event_first_seen`, which unfiltered lifecycles ask instead of the older events."""

    async def test_kept_through_inserts_in_any_order_and_merges(
        self, engine: AsyncEngine, team: Team
    ) -> None:
        a, b = new_person(), new_person()
        await insert_persons(engine, team.id, [a, b])
        day = datetime(2024, 3, 10, 9, tzinfo=UTC)
        await insert_events(engine, team.id, [EventRow("e", day, a.uuid), EventRow("e", day, b.uuid)])
        await insert_events(engine, team.id, [EventRow("e", day - timedelta(days=3), a.uuid)])  # older, later
        await insert_events(engine, team.id, [EventRow("e", day + timedelta(days=1), a.uuid)])  # newer
        async with engine.begin() as connection:  # b merges into a, as ingestion rewrites person_id
            await connection.execute(
                text("UPDATE events SET person_id = :a WHERE person_id = :b"), {"a": a.uuid, "b": b.uuid}
            )
            rows = await connection.execute(
                text("SELECT person_id, first_ts FROM person_event_first_seen WHERE team_id = :t"),
                {"t": team.id},
            )
        assert dict(rows.all()) == {a.uuid: day - timedelta(days=3), b.uuid: day}

    @pytest.mark.parametrize("tz", TIMEZONES)
    async def test_same_statuses_as_from_the_older_events(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery, tz: str
    ) -> None:
        # `$current_url` is set on every event: the filter changes no row, only the path taken.
        everywhere = [{"type": "event", "key": "$current_url", "operator": "is_set"}]
        team_context = TeamContext(id=team.id, timezone=tz)
        unfiltered = await run_query(query(dateRange={"date_from": "-14d"}), team_context, NOW)
        filtered = await run_query(
            query(dateRange={"date_from": "-14d"}, properties=everywhere), team_context, NOW
        )
        assert by_status(unfiltered) == by_status(filtered) == lifecycle(of(data), window(tz, "day", 14))
