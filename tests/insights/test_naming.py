"""Deterministic names and descriptions from queries, and the endpoints that serve them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.services import insight_naming
from tests.factories.identity import Team


def events(*names: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"kind": "EventsNode", "event": name, **extra} for name in names]


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ({"kind": "TrendsQuery", "series": events("$pageview")}, "Pageview count, last 7 days"),
        (
            {
                "kind": "TrendsQuery",
                "series": events("$pageview"),
                "breakdownFilter": {"breakdown": "$browser"},
                "dateRange": {"date_from": "-30d"},
            },
            "Pageview count by browser, last 30 days",
        ),
        (
            {
                "kind": "TrendsQuery",
                "series": events("signed_up", math="dau"),
                "dateRange": {"date_from": "-24h"},
            },
            "Signed up unique users, last 24 hours",
        ),
        (
            {
                "kind": "TrendsQuery",
                "series": events("purchase", math="sum", math_property="revenue"),
                "dateRange": {"date_from": "mStart"},
            },
            "Purchase sum of revenue, this month",
        ),
        (
            {
                "kind": "TrendsQuery",
                "series": [*events("a"), {"kind": "EventsNode", "event": "b", "custom_name": "Bee"}],
            },
            "A count & Bee count, last 7 days",
        ),
        (
            {"kind": "TrendsQuery", "series": events("a", "b", "c", "d", "e")},
            "A count, B count, C count & 2 more, last 7 days",
        ),
        (
            {"kind": "TrendsQuery", "series": events("a", "b"), "trendsFilter": {"formula": "A/B"}},
            "Formula A/B of A count & B count, last 7 days",
        ),
        ({"kind": "TrendsQuery", "series": [{"kind": "EventsNode"}]}, "All events count, last 7 days"),
        (
            {"kind": "TrendsQuery", "series": [{"kind": "ActionsNode", "id": 3}]},
            "Action 3 count, last 7 days",
        ),
        (
            {"kind": "FunnelsQuery", "series": events("signup", "purchase")},
            "Signup → Purchase conversion, last 7 days",
        ),
        (
            {
                "kind": "FunnelsQuery",
                "series": events("signup", "purchase"),
                "funnelsFilter": {"funnelVizType": "time_to_convert"},
            },
            "Time to convert: Signup → Purchase, last 7 days",
        ),
        (
            {
                "kind": "RetentionQuery",
                "retentionFilter": {"targetEntity": {"id": "signup", "type": "events"}},
            },
            "Signup retention, last 7 days",
        ),
        (
            {
                "kind": "RetentionQuery",
                "retentionFilter": {
                    "targetEntity": {"id": "signup", "type": "events"},
                    "returningEntity": {"id": "$pageview", "type": "events"},
                },
            },
            "Signup → Pageview retention, last 7 days",
        ),
        (
            {
                "kind": "PathsQuery",
                "pathsFilter": {"includeEventTypes": ["$pageview"], "startPoint": "/home"},
            },
            "Page paths from /home, last 7 days",
        ),
        ({"kind": "StickinessQuery", "series": events("$pageview")}, "Pageview stickiness, last 7 days"),
        (
            {"kind": "LifecycleQuery", "series": events("$pageview"), "dateRange": {"date_from": "all"}},
            "Pageview lifecycle, all time",
        ),
        (
            {
                "kind": "TrendsQuery",
                "series": events("x"),
                "dateRange": {"date_from": "2024-01-01", "date_to": "2024-01-31"},
            },
            "X count, 2024-01-01 to 2024-01-31",
        ),
        (
            {
                "kind": "TrendsQuery",
                "series": events("x"),
                "dateRange": {"date_from": "-1dStart", "date_to": "-1dEnd"},
            },
            "X count, yesterday",
        ),
    ],
)
def test_names(source: dict[str, Any], name: str) -> None:
    assert insight_naming.name(source) == name
    assert insight_naming.name(source) == insight_naming.name(dict(source))  # deterministic


def test_description_mentions_filters_breakdown_and_comparison() -> None:
    source = {
        "kind": "TrendsQuery",
        "series": events("$pageview"),
        "interval": "week",
        "dateRange": {"date_from": "-90d"},
        "breakdownFilter": {"breakdown": "$browser"},
        "properties": [
            {"key": "$browser", "value": ["Chrome", "Safari"], "operator": "exact", "type": "event"}
        ],
        "filterTestAccounts": True,
        "compareFilter": {"compare": True},
    }
    assert insight_naming.description(source) == (
        "Shows Pageview count per week over last 90 days, broken down by browser. "
        "Filtered to browser is one of Chrome, Safari. Internal and test accounts are excluded. "
        "Compared with the previous period."
    )


def test_funnel_description() -> None:
    source = {
        "kind": "FunnelsQuery",
        "series": events("signup", "purchase"),
        "funnelsFilter": {"funnelWindowInterval": 7, "funnelWindowIntervalUnit": "day"},
    }
    assert insight_naming.description(source) == (
        "Shows how many users convert from Signup to Purchase within 7 days, over last 7 days."
    )


@pytest.mark.parametrize("prefix", ["/api/projects", "/api/environments"])
class TestEndpoints:
    async def test_generate_name_and_metadata(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        query = {
            "kind": "InsightVizNode",
            "source": {"kind": "FunnelsQuery", "series": events("signup", "purchase")},
        }
        named = await client.post(
            f"{prefix}/{team.id}/insights/generate_name/", json={"query": query}, headers=team.headers
        )
        assert named.status_code == 200
        assert named.json() == {"name": "Signup → Purchase conversion, last 7 days"}
        meta = await client.post(
            f"{prefix}/{team.id}/insights/generate_metadata/", json={"query": query}, headers=team.headers
        )
        assert meta.json()["name"] == "Signup → Purchase conversion, last 7 days"
        assert meta.json()["description"].startswith("Shows how many users convert from Signup to Purchase")

    async def test_missing_or_invalid_query_is_400(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        url = f"{prefix}/{team.id}/insights/generate_metadata/"
        missing = await client.post(url, json={"name": "x"}, headers=team.headers)
        assert (missing.status_code, missing.json()["detail"]) == (
            400,
            "Missing 'query' field in request body",
        )
        wrong = await client.post(url, json={"query": "TrendsQuery"}, headers=team.headers)
        assert (wrong.status_code, wrong.json()["detail"]) == (400, "Invalid query format")
        invalid = await client.post(url, json={"query": {"kind": "TrendsQuery"}}, headers=team.headers)
        assert (invalid.status_code, invalid.json()["attr"]) == (400, "series")
