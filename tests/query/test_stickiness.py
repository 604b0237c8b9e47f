"""StickinessQuery results on seeded events against the plain-Python oracle in `oracles`."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.query.api import TeamContext
from tests.factories.events import EventRow, insert_events, insert_persons, new_person
from tests.factories.identity import Team
from tests.query import dataset
from tests.query.conftest import RunQuery
from tests.query.dataset import NOW
from tests.query.oracles import Window, local, stickiness

TIMEZONES = ["UTC", "America/Los_Angeles", "Asia/Kolkata"]


@pytest.fixture
async def data(engine: AsyncEngine, team: Team) -> dataset.Dataset:
    built = dataset.build()
    await dataset.seed(engine, team.id, built)
    return built


def query(event: str = "$pageview", **extra: Any) -> dict[str, Any]:
    return {"kind": "StickinessQuery", "series": [{"kind": "EventsNode", "event": event}], **extra}


def days_back(tz: str, days: int, now: datetime = NOW) -> Window:
    today = local(now, tz).date()
    start = datetime.combine(today - timedelta(days=days), time())
    return Window(tz, "day", start, datetime.combine(today, time.max))


def of(data: dataset.Dataset, event: str = "$pageview") -> list[EventRow]:
    return [e for e in data.events if e.event == event]


class TestNonCumulative:
    @pytest.mark.parametrize("tz", TIMEZONES)
    async def test_days_active_in_the_last_30_days(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery, tz: str
    ) -> None:
        body = await run_query(
            query(dateRange={"date_from": "-30d"}), TeamContext(id=team.id, timezone=tz), NOW
        )
        expected, total = stickiness(of(data), days_back(tz, 30))
        [item] = body["results"]
        assert item["data"] == expected
        assert item["count"] == total
        assert item["days"] == list(range(1, 32))
        assert item["labels"][:2] == ["1 day", "2 days"]
        assert item["label"] == "$pageview"
        assert item["action"]["order"] == 0

    async def test_weekly_intervals_and_monday_weeks(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery
    ) -> None:
        context = TeamContext(id=team.id, timezone="America/Los_Angeles", week_start_day=1)
        body = await run_query(query(interval="week", dateRange={"date_from": "-30d"}), context, NOW)
        window = days_back("America/Los_Angeles", 30)
        window = Window(window.tz, "week", window.local_from, window.local_to, week_start_day=1)
        expected, _ = stickiness(of(data), window)
        assert body["results"][0]["data"] == expected
        assert body["results"][0]["labels"][0] == "1 week"

    async def test_monthly_intervals_count_the_whole_first_month(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery
    ) -> None:
        body = await run_query(
            query(interval="month", dateRange={"date_from": "-30d"}), TeamContext(id=team.id), NOW
        )
        window = days_back("UTC", 30)
        expected, _ = stickiness(of(data), Window("UTC", "month", window.local_from, window.local_to))
        assert body["results"][0]["data"] == expected

    async def test_monthly_range_counts_events_before_date_from_in_the_first_month(
        self, engine: AsyncEngine, team: Team, run_query: RunQuery
    ) -> None:
        person = new_person()
        await insert_persons(engine, team.id, [person])
        moments = [datetime(2024, 2, 3, tzinfo=UTC), datetime(2024, 3, 2, tzinfo=UTC)]
        await insert_events(engine, team.id, [EventRow("e", m, person.uuid) for m in moments])
        payload = {
            "kind": "StickinessQuery",
            "series": [{"kind": "EventsNode", "event": "e"}],
            "interval": "month",
            "dateRange": {"date_from": "-30d"},  # 2024-02-13: February 3rd still counts
        }
        body = await run_query(payload, TeamContext(id=team.id), NOW)
        assert body["results"][0]["data"] == [0.0, 1.0]

    async def test_multiple_series_and_compare(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery
    ) -> None:
        payload = {
            "kind": "StickinessQuery",
            "series": [
                {"kind": "EventsNode", "event": "$pageview"},
                {"kind": "EventsNode", "event": "signup", "custom_name": "Signups"},
            ],
            "compareFilter": {"compare": True},
        }
        body = await run_query(payload, TeamContext(id=team.id), NOW)
        current, previous = days_back("UTC", 7), days_back("UTC", 7, NOW - timedelta(days=8))
        expected = [
            ("$pageview", "current", stickiness(of(data), current)[0]),
            ("$pageview", "previous", stickiness(of(data), previous)[0]),
            ("Signups", "current", stickiness(of(data, "signup"), current)[0]),
            ("Signups", "previous", stickiness(of(data, "signup"), previous)[0]),
        ]
        assert [(i["label"], i["compare_label"], i["data"]) for i in body["results"]] == expected
        assert all(i["compare"] is True for i in body["results"])


class TestCumulativeAndCriteria:
    @pytest.mark.parametrize("tz", TIMEZONES)
    async def test_cumulative_counts_at_least_k_days(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery, tz: str
    ) -> None:
        payload = query(dateRange={"date_from": "-14d"}, stickinessFilter={"computedAs": "cumulative"})
        body = await run_query(payload, TeamContext(id=team.id, timezone=tz), NOW)
        expected, total = stickiness(of(data), days_back(tz, 14), cumulative=True)
        [item] = body["results"]
        assert item["data"] == expected
        assert item["count"] == total
        assert item["labels"][:2] == ["1 day or more", "2 days or more"]

    @pytest.mark.parametrize(("operator", "value"), [("gte", 2), ("lte", 1), ("exact", 2)])
    async def test_criteria_decide_which_days_count(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery, operator: str, value: int
    ) -> None:
        payload = query(
            dateRange={"date_from": "-30d"},
            stickinessFilter={"stickinessCriteria": {"operator": operator, "value": value}},
        )
        body = await run_query(payload, TeamContext(id=team.id, timezone="Asia/Kolkata"), NOW)
        expected, _ = stickiness(of(data), days_back("Asia/Kolkata", 30), criteria=(operator, value))
        assert body["results"][0]["data"] == expected


class TestIntervalCount:
    @pytest.mark.parametrize(("tz", "count"), [("UTC", 2), ("America/Los_Angeles", 3), ("Asia/Kolkata", 1)])
    async def test_periods_are_counted_back_from_the_end_of_the_range(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery, tz: str, count: int
    ) -> None:
        body = await run_query(
            query(dateRange={"date_from": "-20d"}, intervalCount=count),
            TeamContext(id=team.id, timezone=tz),
            NOW,
        )
        expected, _ = stickiness(of(data), days_back(tz, 20), interval_count=count)
        assert len(expected) == -(-21 // count)
        assert body["results"][0]["data"] == expected

    @pytest.mark.parametrize(
        ("interval", "count", "date_from"), [("week", 2, "-30d"), ("month", 1, "-1mStart")]
    )
    async def test_weeks_and_months_count_whole_intervals_back(
        self,
        data: dataset.Dataset,
        team: Team,
        run_query: RunQuery,
        interval: str,
        count: int,
        date_from: str,
    ) -> None:
        payload = query(interval=interval, intervalCount=count, dateRange={"date_from": date_from})
        body = await run_query(payload, TeamContext(id=team.id, timezone="America/Los_Angeles"), NOW)
        today = local(NOW, "America/Los_Angeles").date()
        start = (
            today - timedelta(days=30) if date_from == "-30d" else today.replace(day=1, month=today.month - 1)
        )
        window = Window(
            "America/Los_Angeles",
            interval,
            datetime.combine(start, time()),
            datetime.combine(today, time.max),
        )
        expected, _ = stickiness(of(data), window, interval_count=count)
        assert body["results"][0]["data"] == expected

    async def test_hand_checked_pairs_of_days(
        self, engine: AsyncEngine, team: Team, run_query: RunQuery
    ) -> None:
        """Range of 3 days ending on the 14th, periods of 2 days counted from the end: {13, 14} and {12}."""
        a, b = new_person(), new_person()
        await insert_persons(engine, team.id, [a, b])
        moments = {a.uuid: [13, 14], b.uuid: [12, 14]}
        await insert_events(
            engine,
            team.id,
            [EventRow("e", datetime(2024, 3, d, 12, tzinfo=UTC), p) for p, ds in moments.items() for d in ds],
        )
        payload = {
            "kind": "StickinessQuery",
            "series": [{"kind": "EventsNode", "event": "e"}],
            "dateRange": {"date_from": "2024-03-12", "date_to": "2024-03-14"},
            "intervalCount": 2,
        }
        body = await run_query(payload, TeamContext(id=team.id), NOW)
        # a: days 13 and 14 are both in period 0 → 1 period; b: day 12 (period 1) and 14 (period 0) → 2.
        # (Counting from the start instead would give a and b two periods each.)
        assert body["results"][0]["data"] == [1.0, 1.0]


class TestDaylightSaving:
    async def test_days_across_spring_forward_in_los_angeles(
        self, engine: AsyncEngine, team: Team, run_query: RunQuery
    ) -> None:
        """23:30 local on March 9 (PST) and on March 10 (PDT) are separate local days."""
        person, other = new_person(), new_person()
        await insert_persons(engine, team.id, [person, other])
        moments = [
            datetime(2024, 3, 10, 7, 30, tzinfo=UTC),  # 23:30 PST on the 9th
            datetime(2024, 3, 11, 6, 30, tzinfo=UTC),  # 23:30 PDT on the 10th
            datetime(2024, 3, 11, 7, 30, tzinfo=UTC),  # 00:30 PDT on the 11th
        ]
        rows = [EventRow("e", m, person.uuid) for m in moments]
        rows.append(EventRow("e", datetime(2024, 3, 10, 8, 30, tzinfo=UTC), other.uuid))  # 00:30 PST, 10th
        await insert_events(engine, team.id, rows)
        payload = {
            "kind": "StickinessQuery",
            "series": [{"kind": "EventsNode", "event": "e"}],
            "dateRange": {"date_from": "2024-03-08", "date_to": "2024-03-12"},
        }
        body = await run_query(payload, TeamContext(id=team.id, timezone="America/Los_Angeles"), NOW)
        window = Window("America/Los_Angeles", "day", datetime(2024, 3, 8), datetime(2024, 3, 12, 23, 59, 59))
        expected, _ = stickiness(rows, window)
        assert expected == [1.0, 0.0, 1.0, 0.0, 0.0]
        assert body["results"][0]["data"] == expected
