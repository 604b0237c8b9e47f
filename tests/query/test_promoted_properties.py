"""Promoted properties (generated columns) answer exactly as the same values read from the JSON.

Each event carries one value under `$browser` (promoted) and the same value under `browser_copy`
(not promoted); every filter and the breakdown must give identical results for the two keys, over
values of every JSON type, and a hand count pins the shared answer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models.events import PROMOTED_PROPERTIES
from app.query.api import TeamContext
from app.query.sql import prop_text
from tests.factories.events import EventRow, insert_events, insert_persons, new_person
from tests.factories.identity import Team
from tests.query.conftest import RunQuery
from tests.query.dataset import NOW

MISSING = object()
VALUES: list[Any] = ["Chrome", "chrome", "", "12", 5, 2.5, True, False, None, {"a": 1}, ["x"], MISSING]


@pytest.fixture
async def seeded(engine: AsyncEngine, team: Team) -> None:
    person = new_person()
    await insert_persons(engine, team.id, [person])
    rows = []
    for n, value in enumerate(VALUES):
        properties = {} if value is MISSING else {"$browser": value, "browser_copy": value}
        # n + 1 events per value, so counts tell the values apart.
        rows += [
            EventRow("$pageview", NOW - timedelta(hours=1 + k), person.uuid, properties) for k in range(n + 1)
        ]
    await insert_events(engine, team.id, rows)


def count_query(**extra: Any) -> dict[str, Any]:
    return {
        "kind": "TrendsQuery",
        "series": [{"kind": "EventsNode", "event": "$pageview"}],
        "trendsFilter": {"display": "BoldNumber"},
        **extra,
    }


FILTERS: list[tuple[str, Any]] = [
    ("exact", "Chrome"),
    ("exact", ["12", "true"]),
    ("is_not", "Chrome"),
    ("icontains", "CHROME"),
    ("regex", "^[0-9.]+$"),
    ("gt", 3),
    ("is_set", None),
    ("is_not_set", None),
]


def test_promoted_keys_compile_to_their_column() -> None:
    for key, column in PROMOTED_PROPERTIES.items():
        assert str(prop_text("event", key)) == f"e.{column}"
    assert "->>" in str(prop_text("event", "browser_copy"))
    assert "->>" in str(prop_text("person", "$browser"))  # person properties are never promoted


@pytest.mark.usefixtures("seeded")
class TestPromotedProperties:
    @pytest.mark.parametrize(("operator", "value"), FILTERS)
    async def test_filter_matches_the_json_key(
        self, team: Team, run_query: RunQuery, operator: str, value: Any
    ) -> None:
        counts = []
        for key in ("$browser", "browser_copy"):
            prop: dict[str, Any] = {"type": "event", "key": key, "operator": operator}
            if value is not None:
                prop["value"] = value
            body = await run_query(count_query(properties=[prop]), TeamContext(id=team.id), NOW)
            counts.append(body["results"][0]["aggregated_value"])
        assert counts[0] == counts[1]

    async def test_hand_counted_filters(self, team: Team, run_query: RunQuery) -> None:
        def count(operator: str, value: Any = None) -> Any:
            prop = {"type": "event", "key": "$browser", "operator": operator, "value": value}
            return run_query(count_query(properties=[prop]), TeamContext(id=team.id), NOW)

        # "Chrome" has 1 event, "chrome" 2; JSON null (9 events) and a missing key (12) are unset.
        assert (await count("icontains", "CHROME"))["results"][0]["aggregated_value"] == 3
        assert (await count("is_not_set"))["results"][0]["aggregated_value"] == 9 + 12

    async def test_breakdown_matches_the_json_key(self, team: Team, run_query: RunQuery) -> None:
        results = []
        for key in ("$browser", "browser_copy"):
            body = await run_query(
                count_query(breakdownFilter={"breakdown": key, "breakdown_limit": 20}),
                TeamContext(id=team.id),
                NOW,
            )
            results.append({r["breakdown_value"]: r["aggregated_value"] for r in body["results"]})
        assert results[0] == results[1]
        # Text of each JSON value, as `->>` gives it; "" and null/missing share the null bucket.
        assert (results[0]["true"], results[0]["5"], results[0]['{"a": 1}']) == (7, 5, 10)
