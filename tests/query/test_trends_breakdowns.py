"""Breakdowns, compare, formulas and displays of TrendsQuery against the oracle."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.query.api import TeamContext
from tests.factories.identity import Team
from tests.query import dataset
from tests.query.conftest import RunQuery
from tests.query.dataset import NOW, as_number, day_buckets, in_days, per_day

OTHER = "$$_posthog_breakdown_other_$$"
NULL = "$$_posthog_breakdown_null_$$"


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


def browser(e: dataset.EventRow) -> str:
    value = e.properties.get("$browser")
    return value if value else NULL


def last_week(data: dataset.Dataset, event: str = "$pageview") -> list[dataset.EventRow]:
    buckets = day_buckets(NOW, "UTC", 7)
    return in_days([e for e in data.events if e.event == event], "UTC", buckets[0], buckets[-1])


class TestBreakdowns:
    async def test_event_property_breakdown_with_null_bucket(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery
    ) -> None:
        body = await run_query(
            trends(breakdownFilter={"breakdown": "$browser"}), TeamContext(id=team.id), NOW
        )
        buckets = day_buckets(NOW, "UTC", 7)
        rows = last_week(data)
        expected = {
            value: per_day([e for e in rows if browser(e) == value], "UTC", buckets)
            for value in {browser(e) for e in rows}
        }
        got = {item["breakdown_value"]: item["data"] for item in body["results"]}
        assert got == expected
        counts = [item["count"] for item in body["results"]]
        assert counts == sorted(counts, reverse=True)
        assert body["hasMore"] is False
        assert body["results"][0]["label"] == f"$pageview - {body['results'][0]['breakdown_value']}"

    async def test_breakdown_limit_buckets_the_rest_into_other(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery
    ) -> None:
        query = trends(breakdownFilter={"breakdown": "$browser", "breakdown_limit": 2})
        body = await run_query(query, TeamContext(id=team.id), NOW)
        ranking = Counter(browser(e) for e in last_week(data))
        top = sorted(ranking, key=lambda v: (-ranking[v], v))[:2]
        got = {item["breakdown_value"]: item["count"] for item in body["results"]}
        expected = {v: float(ranking[v]) for v in top}
        expected[OTHER] = float(sum(n for v, n in ranking.items() if v not in top))
        assert got == expected
        assert body["results"][-1]["breakdown_value"] == OTHER
        assert body["hasMore"] is True

    async def test_hide_other_aggregation(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery
    ) -> None:
        query = trends(
            breakdownFilter={
                "breakdown": "$browser",
                "breakdown_limit": 2,
                "breakdown_hide_other_aggregation": True,
            }
        )
        body = await run_query(query, TeamContext(id=team.id), NOW)
        assert len(body["results"]) == 2
        assert OTHER not in [item["breakdown_value"] for item in body["results"]]

    async def test_person_property_breakdown(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery
    ) -> None:
        query = trends(breakdownFilter={"breakdown": "plan", "breakdown_type": "person"})
        body = await run_query(query, TeamContext(id=team.id), NOW)
        plans = {p.uuid: p.properties.get("plan") or NULL for p in data.persons}
        expected = Counter(plans[e.person] for e in last_week(data))
        assert {item["breakdown_value"]: item["count"] for item in body["results"]} == {
            k: float(v) for k, v in expected.items()
        }

    async def test_multiple_breakdowns(self, data: dataset.Dataset, team: Team, run_query: RunQuery) -> None:
        query = trends(
            breakdownFilter={
                "breakdowns": [{"property": "$browser"}, {"property": "plan", "type": "person"}],
                "breakdown_limit": 100,
            }
        )
        body = await run_query(query, TeamContext(id=team.id), NOW)
        plans = {p.uuid: p.properties.get("plan") or NULL for p in data.persons}
        expected = Counter((browser(e), plans[e.person]) for e in last_week(data))
        got = {tuple(item["breakdown_value"]): item["count"] for item in body["results"]}
        assert got == {k: float(v) for k, v in expected.items()}
        assert isinstance(body["results"][0]["breakdown_value"], list)

    async def test_histogram_breakdown(self, data: dataset.Dataset, team: Team, run_query: RunQuery) -> None:
        query = trends(
            breakdownFilter={"breakdown": "amount", "breakdown_histogram_bin_count": 2},
            dateRange={"date_from": "-30d"},
        )
        body = await run_query(query, TeamContext(id=team.id), NOW)
        buckets = day_buckets(NOW, "UTC", 30)
        rows = in_days([e for e in data.events if e.event == "$pageview"], "UTC", buckets[0], buckets[-1])
        numbers = [as_number(e.properties.get("amount")) for e in rows]
        present = [n for n in numbers if n is not None]
        low, high = min(present), max(present)
        middle = (low + high) / 2
        expected = Counter(
            '["",""]' if n is None else (f"[{low},{middle}]" if n < middle else f"[{middle},{high}]")
            for n in numbers
        )
        got = {item["breakdown_value"]: item["count"] for item in body["results"]}
        assert got == {k: float(v) for k, v in expected.items()}


class TestCompareAndFormulas:
    async def test_compare_previous_period(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery
    ) -> None:
        body = await run_query(trends(compareFilter={"compare": True}), TeamContext(id=team.id), NOW)
        current, previous = body["results"]
        buckets = day_buckets(NOW, "UTC", 15)
        views = [e for e in data.events if e.event == "$pageview"]
        assert current["compare_label"] == "current"
        assert previous["compare_label"] == "previous"
        assert current["compare"] is True
        assert current["data"] == per_day(views, "UTC", buckets[8:])
        assert previous["data"] == per_day(views, "UTC", buckets[:8])
        assert previous["days"][0] == buckets[0].isoformat()
        assert current["labels"] == [f"day {i}" for i in range(8)]

    async def test_formulas(self, data: dataset.Dataset, team: Team, run_query: RunQuery) -> None:
        query = trends(
            [{"kind": "EventsNode", "event": "$pageview"}, {"kind": "EventsNode", "event": "signup"}],
            trendsFilter={"formulas": ["A+B", "B/A*100"]},
        )
        body = await run_query(query, TeamContext(id=team.id), NOW)
        buckets = day_buckets(NOW, "UTC", 7)
        a = per_day([e for e in data.events if e.event == "$pageview"], "UTC", buckets)
        b = per_day([e for e in data.events if e.event == "signup"], "UTC", buckets)
        total, ratio = body["results"]
        assert total["label"] == "A+B"
        assert total["action"] is None
        assert total["data"] == [x + y for x, y in zip(a, b, strict=True)]
        assert ratio["data"] == pytest.approx([y / x * 100 if x else 0 for x, y in zip(a, b, strict=True)])

    async def test_formula_with_breakdown(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery
    ) -> None:
        query = trends(
            [{"kind": "EventsNode", "event": "$pageview"}, {"kind": "EventsNode", "event": "signup"}],
            trendsFilter={"formula": "A-B"},
            breakdownFilter={"breakdown": "$browser"},
        )
        body = await run_query(query, TeamContext(id=team.id), NOW)
        views, signups = (
            Counter(browser(e) for e in last_week(data)),
            Counter(browser(e) for e in last_week(data, "signup")),
        )
        got = {item["breakdown_value"]: item["count"] for item in body["results"]}
        assert got == {k: float(views[k] - signups[k]) for k in set(views) | set(signups)}


class TestDisplays:
    async def test_bold_number_aggregates_the_range(
        self, data: dataset.Dataset, team: Team, run_query: RunQuery
    ) -> None:
        query = trends(
            [{"kind": "EventsNode", "event": "$pageview", "math": "dau"}],
            trendsFilter={"display": "BoldNumber"},
        )
        body = await run_query(query, TeamContext(id=team.id), NOW)
        [item] = body["results"]
        assert item["aggregated_value"] == float(len({e.person for e in last_week(data)}))
        assert item["data"] == []

    async def test_pie_with_breakdown(self, data: dataset.Dataset, team: Team, run_query: RunQuery) -> None:
        query = trends(trendsFilter={"display": "ActionsPie"}, breakdownFilter={"breakdown": "$browser"})
        body = await run_query(query, TeamContext(id=team.id), NOW)
        expected = Counter(browser(e) for e in last_week(data))
        assert {i["breakdown_value"]: i["aggregated_value"] for i in body["results"]} == {
            k: float(v) for k, v in expected.items()
        }

    async def test_cumulative(self, data: dataset.Dataset, team: Team, run_query: RunQuery) -> None:
        query = trends(trendsFilter={"display": "ActionsLineGraphCumulative"})
        body = await run_query(query, TeamContext(id=team.id), NOW)
        daily = per_day(last_week(data), "UTC", day_buckets(NOW, "UTC", 7))
        running = [sum(daily[: i + 1]) for i in range(len(daily))]
        assert body["results"][0]["data"] == running
        assert body["results"][0]["count"] == running[-1]

    async def test_smoothing(self, data: dataset.Dataset, team: Team, run_query: RunQuery) -> None:
        query = trends(trendsFilter={"smoothingIntervals": 3})
        body = await run_query(query, TeamContext(id=team.id), NOW)
        daily = per_day(last_week(data), "UTC", day_buckets(NOW, "UTC", 7))
        expected = [sum(daily[max(0, i - 2) : i + 1]) / len(daily[max(0, i - 2) : i + 1]) for i in range(8)]
        assert body["results"][0]["data"] == pytest.approx(expected)
