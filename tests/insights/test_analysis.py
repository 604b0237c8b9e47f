"""The analysis of results (pure functions, numbers worked out by hand) and the analyze/suggestions API."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.services import insight_analysis
from tests.factories.events import EventRow, insert_events
from tests.factories.identity import Team
from tests.factories.insights import create_insight

TRENDS = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}]}


class TestSeries:
    def test_direction_halves_and_anomaly(self) -> None:
        data = [10, 10, 10, 10, 10, 12, 10, 50]
        days = [f"2024-01-0{i + 1}" for i in range(8)]
        analysis = insight_analysis.analyze(
            TRENDS, [{"label": "Pageview", "data": data, "days": days, "count": 122}]
        )
        finding = analysis["series"][0]
        # first half 10+10+10+10 = 40, second half 10+12+10+50 = 82: +105%
        assert finding["period_over_period"] == {
            "basis": "first half of the range", "before": 40.0, "after": 82.0, "change_pct": 105.0,
        }  # fmt: skip
        assert finding["direction"] == "up"
        assert finding["last_interval"] == {"before": 10.0, "after": 50.0, "change_pct": 400.0}
        others = data[:-1]
        expected_sigma = round((50 - statistics.mean(others)) / statistics.stdev(others), 2)
        assert finding["anomalies"] == [
            {"index": 7, "label": "2024-01-08", "value": 50.0, "sigma": expected_sigma}
        ]

    def test_flat_series_has_no_anomalies(self) -> None:
        analysis = insight_analysis.analyze(
            TRENDS, [{"label": "x", "data": [5, 6, 5, 6, 5, 6, 5, 6], "days": []}]
        )
        assert analysis["series"][0]["direction"] == "flat"  # 22 vs 22
        assert analysis["series"][0]["anomalies"] == []

    def test_compare_uses_the_previous_period(self) -> None:
        results = [
            {"label": "x", "data": [10, 20], "count": 30, "compare_label": "current"},
            {"label": "x", "data": [5, 15], "count": 20, "compare_label": "previous"},
        ]
        finding = insight_analysis.analyze(TRENDS, results)["series"][0]
        assert finding["period_over_period"]["basis"] == "previous period"
        assert (finding["period_over_period"]["change_pct"], finding["direction"]) == (50.0, "up")

    def test_biggest_breakdown_movers(self) -> None:
        results = [
            {"label": "x", "breakdown_value": "Firefox", "data": [1, 1, 1, 1]},
            {"label": "x", "breakdown_value": "Safari", "data": [3, 3, 1, 1]},
            {"label": "x", "breakdown_value": "Chrome", "data": [1, 1, 5, 5]},
        ]
        movers = insight_analysis.analyze(TRENDS, results)["biggest_movers"]
        assert [(m["breakdown_value"], m["change"]) for m in movers] == [
            ("Chrome", 8.0),
            ("Safari", -4.0),
            ("Firefox", 0.0),
        ]
        summary = insight_analysis.summary(TRENDS, insight_analysis.analyze(TRENDS, results))
        assert "Biggest movers: Chrome (+8), Safari (-4), Firefox (+0)." in summary


def test_funnel_drop_off() -> None:
    steps = [
        {"name": "signup", "count": 100},
        {"name": "activate", "count": 60},
        {"name": "purchase", "count": 15},
    ]
    analysis = insight_analysis.analyze({"kind": "FunnelsQuery"}, steps)
    assert analysis["conversion_pct"] == 15.0
    assert [d["drop_off_pct"] for d in analysis["drop_offs"]] == [40.0, 75.0]
    assert analysis["largest_drop_off"] == {
        "from_step": "activate",
        "to_step": "purchase",
        "dropped": 45.0,
        "drop_off_pct": 75.0,
    }
    suggestion = insight_analysis.suggestions({"kind": "FunnelsQuery", "series": [1, 2, 3]}, analysis)[0]
    assert (suggestion["type"], suggestion["query"]["series"]) == ("drop_off", [2, 3])


def test_retention() -> None:
    cohorts = [
        {"values": [{"count": 10}, {"count": 5}, {"count": 2}]},
        {"values": [{"count": 20}, {"count": 10}]},
        {"values": [{"count": 5}]},
    ]
    analysis = insight_analysis.analyze({"kind": "RetentionQuery"}, cohorts)
    # after one period: (5 + 10) / (10 + 20); by period 2 only the first cohort is old enough: 2 / 10
    assert (analysis["retained_after_one_period_pct"], analysis["retained_at_last_period_pct"]) == (
        50.0,
        20.0,
    )
    assert analysis["users"] == 35.0


def test_empty_result() -> None:
    assert insight_analysis.analyze(TRENDS, None) == {"kind": "empty"}
    assert "no data" in insight_analysis.summary(TRENDS, {"kind": "empty"})


@pytest.fixture
async def spiky_pageviews(engine: AsyncEngine, team: Team) -> list[int]:
    """Per day for the last 7 days and today: 2, 3, 2, 3, 2, 3, 2 and then 30."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    per_day = [2, 3, 2, 3, 2, 3, 2, 30]
    rows = [
        EventRow(
            "$pageview", today - timedelta(days=7 - index) + timedelta(seconds=1 + n), None, distinct_id="u"
        )
        for index, count in enumerate(per_day)
        for n in range(count)
    ]
    await insert_events(engine, team.id, rows)
    return per_day


@pytest.mark.parametrize("prefix", ["/api/projects", "/api/environments"])
async def test_analyze_and_suggestions_endpoints(
    client: httpx.AsyncClient, team: Team, spiky_pageviews: list[int], prefix: str
) -> None:
    insight = await create_insight(client, team, prefix)
    url = f"{prefix}/{team.id}/insights/{insight['id']}/"
    body = (await client.get(url + "analyze/", headers=team.headers)).json()
    finding = body["analysis"]["series"][0]
    assert finding["total"] == sum(spiky_pageviews)
    # halves: 2+3+2+3 = 10 vs 2+3+2+30 = 37 → +270%
    assert (finding["period_over_period"]["before"], finding["period_over_period"]["after"]) == (10.0, 37.0)
    assert finding["period_over_period"]["change_pct"] == 270.0
    assert [a["index"] for a in finding["anomalies"]] == [7]
    today = datetime.now(UTC).date().isoformat()
    assert finding["anomalies"][0]["label"] == today
    assert body["result"] == body["summary"]
    assert "rose 270.0% (10 → 37)" in body["summary"]
    assert f"on {today} was unusual: 30" in body["summary"]

    suggestions = (await client.get(url + "suggestions/", headers=team.headers)).json()
    assert [s["type"] for s in suggestions] == ["investigate_anomaly", "compare", "breakdown"]
    assert suggestions[0]["query"]["dateRange"] == {"date_from": today, "date_to": today}
    posted = await client.post(url + "suggestions/", json={"context": "why?"}, headers=team.headers)
    assert posted.json() == suggestions
