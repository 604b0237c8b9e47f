"""TrendsQuery: active-user windows, first-time math, every aggregated display, monthly ranges,
named formulas and `compare_to`, each against numbers computed here from the same rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.query.api import TeamContext
from tests.factories.events import EventRow, insert_events, insert_persons, new_person
from tests.factories.identity import Team
from tests.query import dataset
from tests.query.conftest import RunQuery
from tests.query.dataset import NOW, day_buckets, in_days, local_day, per_day


@pytest.fixture
async def data(engine: AsyncEngine, team: Team) -> dataset.Dataset:
    built = dataset.build()
    await dataset.seed(engine, team.id, built)
    return built


def trends(series: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "TrendsQuery",
        "series": series or [{"kind": "EventsNode", "event": "$pageview"}],
        **extra,
    }


def of(data: dataset.Dataset, event: str) -> list[dataset.EventRow]:
    return [e for e in data.events if e.event == event]


class TestActiveUsers:
    @pytest.mark.parametrize("tz", ["UTC", "America/Los_Angeles"])
    async def test_monthly_active_counts_the_thirty_days_up_to_each_day(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery, tz: str
    ) -> None:
        query = trends([{"kind": "EventsNode", "event": "signup", "math": "monthly_active"}])
        body = await run_query(query, TeamContext(id=team.id, timezone=tz), NOW)
        expected = [
            float(len({e.person for e in in_days(of(data, "signup"), tz, day - timedelta(days=29), day)}))
            for day in day_buckets(NOW, tz, 7)
        ]
        assert body["results"][0]["data"] == expected
        assert body["results"][0]["action"]["math"] == "monthly_active"


class TestFirstTime:
    """PostHog: `first_time_for_user` takes each person's first event of the series and keeps it if it
    matches the filters; `first_matching_event_for_user` takes the first event that matches them."""

    FILTER = [{"type": "event", "key": "$browser", "operator": "exact", "value": "Chrome"}]

    def firsts(self, data: dataset.Dataset, *, matching: bool) -> list[dataset.EventRow]:
        found: dict[Any, dataset.EventRow] = {}
        for e in sorted(of(data, "purchase"), key=lambda e: e.timestamp):
            if matching and e.properties.get("$browser") != "Chrome":
                continue
            found.setdefault(e.person, e)
        return [e for e in found.values() if e.properties.get("$browser") == "Chrome"]

    @pytest.mark.parametrize(
        ("math", "matching"), [("first_time_for_user", False), ("first_matching_event_for_user", True)]
    )
    async def test_filters_apply_to_the_first_event_or_pick_it(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery, math: str, matching: bool
    ) -> None:
        query = trends(
            [{"kind": "EventsNode", "event": "purchase", "math": math, "properties": self.FILTER}],
            dateRange={"date_from": "-30d"},
        )
        body = await run_query(query, TeamContext(id=team.id), NOW)
        buckets = day_buckets(NOW, "UTC", 30)
        assert body["results"][0]["data"] == per_day(self.firsts(data, matching=matching), "UTC", buckets)

    async def test_the_two_maths_differ_on_this_dataset(self, data: dataset.Dataset) -> None:
        """Guards the test above: the dataset must tell the two definitions apart."""
        buckets = day_buckets(NOW, "UTC", 30)
        assert per_day(self.firsts(data, matching=False), "UTC", buckets) != per_day(
            self.firsts(data, matching=True), "UTC", buckets
        )

    async def test_hand_checked_first_times(
        self, engine: AsyncEngine, team: Team, run_query: RunQuery
    ) -> None:
        a, b, c = new_person(), new_person(), new_person()
        await insert_persons(engine, team.id, [a, b, c])

        def at(days_ago: int, person: Any, browser: str) -> EventRow:
            return EventRow("buy", NOW - timedelta(days=days_ago), person.uuid, {"$browser": browser})

        rows = [at(10, a, "Chrome"), at(3, a, "Chrome"), at(5, b, "Firefox"), at(2, b, "Chrome")]
        rows += [at(4, c, "Chrome"), at(1, c, "Chrome")]
        await insert_events(engine, team.id, rows)
        series = {"kind": "EventsNode", "event": "buy", "properties": self.FILTER}
        first_time, first_matching = [
            (await run_query(trends([{**series, "math": math}]), TeamContext(id=team.id), NOW))["results"][0][
                "data"
            ]
            for math in ("first_time_for_user", "first_matching_event_for_user")
        ]
        # a's first purchase is before the range; b's first is Firefox (kept only when "matching").
        assert first_time == [0, 0, 0, 1, 0, 0, 0, 0]
        assert first_matching == [0, 0, 0, 1, 0, 1, 0, 0]


class TestAggregatedDisplays:
    @pytest.mark.parametrize(
        "display", ["BoldNumber", "ActionsPie", "ActionsTable", "ActionsBarValue", "WorldMap"]
    )
    async def test_one_value_over_the_whole_range(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery, display: str
    ) -> None:
        query = trends(
            [{"kind": "EventsNode", "event": "$pageview"}, {"kind": "EventsNode", "event": "signup"}],
            trendsFilter={"display": display},
            dateRange={"date_from": "-14d"},
        )
        body = await run_query(query, TeamContext(id=team.id, timezone="Asia/Kolkata"), NOW)
        buckets = day_buckets(NOW, "Asia/Kolkata", 14)
        for item, event in zip(body["results"], ["$pageview", "signup"], strict=True):
            expected = len(in_days(of(data, event), "Asia/Kolkata", buckets[0], buckets[-1]))
            assert item["aggregated_value"] == float(expected)
            assert (item["data"], item["days"], item["labels"], item["count"]) == ([], [], [], 0.0)
            assert item["label"] == event

    async def test_world_map_by_country(self, engine: AsyncEngine, team: Team, run_query: RunQuery) -> None:
        people = [new_person() for _ in range(3)]
        await insert_persons(engine, team.id, people)
        countries = ["US", "US", "IN", "DE", "IN", "US"]
        rows = [
            EventRow(
                "$pageview", NOW - timedelta(hours=i + 1), people[i % 3].uuid, {"$geoip_country_code": c}
            )
            for i, c in enumerate(countries)
        ]
        await insert_events(engine, team.id, rows)
        query = trends(
            [{"kind": "EventsNode", "event": "$pageview", "math": "dau"}],
            trendsFilter={"display": "WorldMap"},
            breakdownFilter={"breakdown": "$geoip_country_code"},
        )
        body = await run_query(query, TeamContext(id=team.id), NOW)
        persons_per_country = {
            country: float(len({r.person for r in rows if r.properties["$geoip_country_code"] == country}))
            for country in set(countries)
        }
        assert {i["breakdown_value"]: i["aggregated_value"] for i in body["results"]} == persons_per_country
        assert [i["aggregated_value"] for i in body["results"]] == sorted(
            persons_per_country.values(), reverse=True
        )


class TestRanges:
    async def test_monthly_interval_counts_the_whole_first_month(
        self, engine: AsyncEngine, team: Team, run_query: RunQuery
    ) -> None:
        """As PostHog: a relative range shown by month starts at the first month's start."""
        person = new_person()
        await insert_persons(engine, team.id, [person])
        moments = [
            datetime(2024, 2, 3, tzinfo=UTC),
            datetime(2024, 2, 20, tzinfo=UTC),
            datetime(2024, 3, 2, tzinfo=UTC),
        ]
        await insert_events(engine, team.id, [EventRow("e", m, person.uuid) for m in moments])
        query = trends(
            [{"kind": "EventsNode", "event": "e"}], interval="month", dateRange={"date_from": "-30d"}
        )
        body = await run_query(query, TeamContext(id=team.id), NOW)
        [item] = body["results"]
        assert item["days"] == ["2024-02-01", "2024-03-01"]
        assert item["data"] == [2.0, 1.0]

    async def test_explicit_dates_keep_the_exact_start(
        self, engine: AsyncEngine, team: Team, run_query: RunQuery
    ) -> None:
        person = new_person()
        await insert_persons(engine, team.id, [person])
        moments = [datetime(2024, 2, 3, tzinfo=UTC), datetime(2024, 2, 20, tzinfo=UTC)]
        await insert_events(engine, team.id, [EventRow("e", m, person.uuid) for m in moments])
        query = trends(
            [{"kind": "EventsNode", "event": "e"}],
            interval="month",
            dateRange={
                "date_from": "2024-02-10T00:00:00Z",
                "date_to": "2024-03-10T00:00:00Z",
                "explicitDate": True,
            },
        )
        body = await run_query(query, TeamContext(id=team.id), NOW)
        assert body["results"][0]["data"] == [1.0, 0.0]

    async def test_all_time_starts_on_the_first_events_local_day(
        self, engine: AsyncEngine, team: Team, run_query: RunQuery
    ) -> None:
        person = new_person()
        await insert_persons(engine, team.id, [person])
        moments = [
            datetime(2024, 3, 9, 20, tzinfo=UTC),
            datetime(2024, 3, 12, 5, tzinfo=UTC),
        ]  # 10th in Kolkata
        await insert_events(engine, team.id, [EventRow("e", m, person.uuid) for m in moments])
        query = trends([{"kind": "EventsNode", "event": "e"}], dateRange={"date_from": "all"})
        body = await run_query(query, TeamContext(id=team.id, timezone="Asia/Kolkata"), NOW)
        [item] = body["results"]
        assert item["days"][0] == "2024-03-10"
        assert item["days"][-1] == "2024-03-14"
        assert item["data"] == [1.0, 0.0, 1.0, 0.0, 0.0]
        assert body["resolved_date_range"]["date_from"] == "2024-03-10T00:00:00+05:30"

    async def test_breakdown_normalize_url_merges_trailing_slashes(
        self, engine: AsyncEngine, team: Team, run_query: RunQuery
    ) -> None:
        person = new_person()
        await insert_persons(engine, team.id, [person])
        urls = ["https://a.com/x", "https://a.com/x/", "https://a.com/x?", "https://a.com/y#", "/"]
        rows = [EventRow("e", NOW - timedelta(hours=1), person.uuid, {"$current_url": u}) for u in urls]
        await insert_events(engine, team.id, rows)
        query = trends(
            [{"kind": "EventsNode", "event": "e"}],
            breakdownFilter={"breakdown": "$current_url", "breakdown_normalize_url": True},
        )
        body = await run_query(query, TeamContext(id=team.id), NOW)
        got = {item["breakdown_value"]: item["count"] for item in body["results"]}
        assert got == {"https://a.com/x": 3.0, "https://a.com/y": 1.0, "/": 1.0}  # PostHog keeps the root

    async def test_compare_to_a_week_earlier(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery
    ) -> None:
        query = trends(compareFilter={"compare": True, "compare_to": "-1w"})
        body = await run_query(query, TeamContext(id=team.id, timezone="America/Los_Angeles"), NOW)
        current, previous = body["results"]
        buckets = day_buckets(NOW, "America/Los_Angeles", 7)
        earlier = [d - timedelta(days=7) for d in buckets]
        views = of(data, "$pageview")
        assert current["data"] == per_day(views, "America/Los_Angeles", buckets)
        assert previous["data"] == per_day(views, "America/Los_Angeles", earlier)
        assert previous["days"] == [d.isoformat() for d in earlier]
        assert previous["labels"] == current["labels"] == [f"day {i}" for i in range(8)]
        assert (current["compare_label"], previous["compare_label"]) == ("current", "previous")


class TestFormulas:
    async def test_formula_nodes_are_labelled_by_custom_name(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery
    ) -> None:
        query = trends(
            [{"kind": "EventsNode", "event": "signup"}, {"kind": "EventsNode", "event": "purchase"}],
            trendsFilter={
                "formulaNodes": [{"formula": "B / A", "custom_name": "Conversion"}, {"formula": "A - B"}]
            },
        )
        body = await run_query(query, TeamContext(id=team.id), NOW)
        buckets = day_buckets(NOW, "UTC", 7)
        signups, purchases = (
            per_day(of(data, "signup"), "UTC", buckets),
            per_day(of(data, "purchase"), "UTC", buckets),
        )
        ratio, difference = body["results"]
        assert ratio["label"] == "Conversion"
        assert ratio["data"] == pytest.approx(
            [p / s if s else 0.0 for s, p in zip(signups, purchases, strict=True)]
        )
        assert difference["label"] == "A - B"
        assert difference["data"] == [s - p for s, p in zip(signups, purchases, strict=True)]

    async def test_formula_over_an_aggregated_display(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery
    ) -> None:
        query = trends(
            [{"kind": "EventsNode", "event": "signup"}, {"kind": "EventsNode", "event": "purchase"}],
            trendsFilter={"formula": "A + 2 * B", "display": "BoldNumber"},
        )
        body = await run_query(query, TeamContext(id=team.id), NOW)
        first = NOW.date() - timedelta(days=7)
        count = {
            event: sum(
                1 for e in of(data, event) if first <= local_day(e.timestamp, "UTC") <= date(2024, 3, 14)
            )
            for event in ("signup", "purchase")
        }
        assert body["results"][0]["aggregated_value"] == float(count["signup"] + 2 * count["purchase"])
