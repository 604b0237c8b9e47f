"""TrendsQuery results on seeded events against the plain-Python oracle in `dataset`."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.query.api import TeamContext
from tests.factories.identity import Team
from tests.query import dataset
from tests.query.conftest import RunQuery
from tests.query.dataset import NOW, as_number, day_buckets, in_days, per_day, percentile

TIMEZONES = ["UTC", "America/Los_Angeles", "Asia/Kolkata"]


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


def pageviews(data: dataset.Dataset) -> list[dataset.EventRow]:
    return [e for e in data.events if e.event == "$pageview"]


class TestCounts:
    @pytest.mark.parametrize("tz", TIMEZONES)
    async def test_default_range_counts_per_local_day(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery, tz: str
    ) -> None:
        body = await run_query(trends(), TeamContext(id=team.id, timezone=tz), NOW)
        buckets = day_buckets(NOW, tz, 7)
        expected = per_day(in_days(pageviews(data), tz, buckets[0], buckets[-1]), tz, buckets)
        [item] = body["results"]
        assert len(item["data"]) == 8
        assert item["data"] == expected
        assert item["count"] == sum(expected)
        assert item["days"] == [d.isoformat() for d in buckets]
        assert item["labels"][0] == f"{buckets[0].day}-{buckets[0].strftime('%b-%Y')}"
        assert item["label"] == "$pageview"
        assert item["action"]["id"] == "$pageview"
        assert item["action"]["math"] == "total"
        assert body["timezone"] == tz

    @pytest.mark.parametrize("tz", TIMEZONES)
    async def test_dau_30d(self, data: dataset.Dataset, team: Team, run_query: RunQuery, tz: str) -> None:
        query = trends(
            [{"kind": "EventsNode", "event": "$pageview", "math": "dau"}], dateRange={"date_from": "-30d"}
        )
        body = await run_query(query, TeamContext(id=team.id, timezone=tz), NOW)
        buckets = day_buckets(NOW, tz, 30)
        expected = per_day(pageviews(data), tz, buckets, lambda rows: len({e.person for e in rows}))
        assert body["results"][0]["data"] == expected

    async def test_all_events_series_and_multiple_series(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery
    ) -> None:
        query = trends(
            [
                {"kind": "EventsNode", "event": None},
                {"kind": "EventsNode", "event": "signup", "custom_name": "Signups"},
            ]
        )
        body = await run_query(query, TeamContext(id=team.id), NOW)
        buckets = day_buckets(NOW, "UTC", 7)
        all_events, signups = body["results"]
        assert all_events["label"] == "All events"
        assert all_events["data"] == per_day(data.events, "UTC", buckets)
        assert signups["label"] == "Signups"
        assert signups["action"]["order"] == 1
        assert signups["data"] == per_day([e for e in data.events if e.event == "signup"], "UTC", buckets)

    async def test_weekly_active_counts_the_seven_days_up_to_each_day(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery
    ) -> None:
        query = trends([{"kind": "EventsNode", "event": "$pageview", "math": "weekly_active"}])
        body = await run_query(query, TeamContext(id=team.id), NOW)
        buckets = day_buckets(NOW, "UTC", 7)
        expected = []
        for day in buckets:
            window = in_days(pageviews(data), "UTC", day - timedelta(days=6), day)
            expected.append(float(len({e.person for e in window})))
        assert body["results"][0]["data"] == expected

    async def test_unique_sessions(self, data: dataset.Dataset, team: Team, run_query: RunQuery) -> None:
        query = trends([{"kind": "EventsNode", "event": "$pageview", "math": "unique_session"}])
        body = await run_query(query, TeamContext(id=team.id), NOW)
        buckets = day_buckets(NOW, "UTC", 7)
        expected = per_day(
            pageviews(data), "UTC", buckets, lambda rows: len({e.session_id for e in rows} - {None, ""})
        )
        assert body["results"][0]["data"] == expected

    async def test_first_time_for_user(self, data: dataset.Dataset, team: Team, run_query: RunQuery) -> None:
        query = trends(
            [{"kind": "EventsNode", "event": "purchase", "math": "first_time_for_user"}],
            dateRange={"date_from": "-14d"},
        )
        body = await run_query(query, TeamContext(id=team.id), NOW)
        firsts: dict[Any, dataset.EventRow] = {}
        for e in sorted((e for e in data.events if e.event == "purchase"), key=lambda e: e.timestamp):
            firsts.setdefault(e.person, e)
        buckets = day_buckets(NOW, "UTC", 14)
        assert body["results"][0]["data"] == per_day(firsts.values(), "UTC", buckets)


class TestPropertyMath:
    @pytest.mark.parametrize(
        ("math", "aggregate"),
        [
            ("sum", sum),
            ("avg", lambda v: sum(v) / len(v)),
            ("min", min),
            ("max", max),
            ("median", lambda v: percentile(v, 0.5)),
            ("p75", lambda v: percentile(v, 0.75)),
            ("p90", lambda v: percentile(v, 0.9)),
            ("p95", lambda v: percentile(v, 0.95)),
            ("p99", lambda v: percentile(v, 0.99)),
        ],
    )
    async def test_property_math_ignores_non_numeric_values(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery, math: str, aggregate: Any
    ) -> None:
        query = trends(
            [{"kind": "EventsNode", "event": "purchase", "math": math, "math_property": "amount"}],
            dateRange={"date_from": "-30d"},
        )
        body = await run_query(query, TeamContext(id=team.id), NOW)
        buckets = day_buckets(NOW, "UTC", 30)

        def numbers(rows: list[dataset.EventRow]) -> float:
            values = [n for e in rows if (n := as_number(e.properties.get("amount"))) is not None]
            return aggregate(values) if values else 0.0

        expected = per_day([e for e in data.events if e.event == "purchase"], "UTC", buckets, numbers)
        assert body["results"][0]["data"] == pytest.approx(expected)

    @pytest.mark.parametrize(
        ("math", "aggregate"),
        [
            ("avg_count_per_actor", lambda v: sum(v) / len(v)),
            ("min_count_per_actor", min),
            ("max_count_per_actor", max),
            ("median_count_per_actor", lambda v: percentile(v, 0.5)),
            ("p75_count_per_actor", lambda v: percentile(v, 0.75)),
            ("p90_count_per_actor", lambda v: percentile(v, 0.9)),
            ("p95_count_per_actor", lambda v: percentile(v, 0.95)),
            ("p99_count_per_actor", lambda v: percentile(v, 0.99)),
        ],
    )
    async def test_count_per_actor(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery, math: str, aggregate: Any
    ) -> None:
        query = trends([{"kind": "EventsNode", "event": "$pageview", "math": math}])
        body = await run_query(query, TeamContext(id=team.id), NOW)
        buckets = day_buckets(NOW, "UTC", 7)

        def per_actor(rows: list[dataset.EventRow]) -> float:
            return float(aggregate([float(n) for n in Counter(e.person for e in rows).values()]))

        assert body["results"][0]["data"] == pytest.approx(
            per_day(pageviews(data), "UTC", buckets, per_actor)
        )

    async def test_math_multiplier(self, data: dataset.Dataset, team: Team, run_query: RunQuery) -> None:
        query = trends([{"kind": "EventsNode", "event": "$pageview", "math_multiplier": 2.5}])
        body = await run_query(query, TeamContext(id=team.id), NOW)
        buckets = day_buckets(NOW, "UTC", 7)
        assert body["results"][0]["data"] == [v * 2.5 for v in per_day(pageviews(data), "UTC", buckets)]
