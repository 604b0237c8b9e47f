"""Hostile input against the engine: wrong types at every field of the query nodes, SQL-injection
strings, huge lists, deep nesting, invalid regexes and unstorable text. Each gets a 4xx naming the field
or a correct (often empty) result, never a 500, and the data is untouched afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import APIError, ValidationError
from app.models import Event
from app.query.api import TeamContext
from tests.factories.events import EventRow, insert_events, insert_persons, new_person
from tests.factories.identity import Team
from tests.query.conftest import RunQuery
from tests.query.dataset import NOW

Path = tuple[str | int, ...]
WRONG: list[Any] = [None, True, -1, 10**30, 1.5, "x", "'; DROP TABLE events; --", [], {"a": 1}]
TEST_ACCOUNTS = [{"key": "email", "value": "@test.com", "operator": "not_icontains", "type": "person"}]
FILTER = {"key": "$browser", "value": "Chrome", "operator": "exact", "type": "event"}
GROUP = {
    "type": "AND",
    "values": [
        {
            "type": "OR",
            "values": [
                {"key": "plan", "value": ["pro"], "operator": "exact", "type": "person"},
                {"key": "text", "value": "Go", "operator": "icontains", "type": "element"},
            ],
        }
    ],
}
TRENDS = {
    "kind": "TrendsQuery",
    "series": [
        {
            "kind": "EventsNode",
            "event": "$pageview",
            "name": "Views",
            "custom_name": "Views!",
            "math": "sum",
            "math_property": "amount",
            "math_multiplier": 2,
            "properties": [FILTER],
            "fixedProperties": [{"key": "amount", "value": 1, "operator": "gte", "type": "event"}],
        },
        {"kind": "EventsNode", "event": "signup", "math": "dau"},
    ],
    "interval": "day",
    "dateRange": {"date_from": "-14d", "date_to": "-1d", "explicitDate": False},
    "properties": GROUP,
    "filterTestAccounts": True,
    "breakdownFilter": {"breakdown": "$browser", "breakdown_type": "event", "breakdown_limit": 3},
    "compareFilter": {"compare": True, "compare_to": "-1w"},
    "trendsFilter": {"display": "ActionsLineGraph", "formula": "A+B", "smoothingIntervals": 2},
}
TRENDS_MULTI = {
    "kind": "InsightVizNode",
    "source": {
        "kind": "TrendsQuery",
        "series": [{"kind": "EventsNode", "event": "$pageview", "math": "p90_count_per_actor"}],
        "interval": "week",
        "breakdownFilter": {
            "breakdowns": [
                {"property": "amount", "type": "event", "histogram_bin_count": 3},
                {"property": "plan", "type": "person", "normalize_url": True},
            ],
            "breakdown_hide_other_aggregation": True,
        },
        "trendsFilter": {"display": "ActionsTable", "formulaNodes": [{"formula": "A*2", "custom_name": "x"}]},
    },
}
STICKINESS = {
    "kind": "StickinessQuery",
    "series": [{"kind": "EventsNode", "event": "$pageview", "properties": [FILTER]}],
    "interval": "day",
    "intervalCount": 2,
    "dateRange": {"date_from": "-14d"},
    "properties": [FILTER],
    "compareFilter": {"compare": True},
    "stickinessFilter": {"computedAs": "cumulative", "stickinessCriteria": {"operator": "gte", "value": 1}},
}
LIFECYCLE = {
    "kind": "LifecycleQuery",
    "series": [{"kind": "EventsNode", "event": "$pageview"}],
    "interval": "week",
    "dateRange": {"date_from": "-30d"},
    "properties": GROUP,
    "lifecycleFilter": {"toggledLifecycles": ["new", "dormant"]},
}
QUERIES = {"trends": TRENDS, "trends_multi": TRENDS_MULTI, "stickiness": STICKINESS, "lifecycle": LIFECYCLE}


@pytest.fixture
async def seeded(engine: AsyncEngine, team: Team) -> int:
    people = [new_person({"plan": "pro", "email": "a@test.com"}), new_person({"plan": "free"})]
    await insert_persons(engine, team.id, people)
    rows = [
        EventRow(
            event,
            NOW - timedelta(days=day, hours=1),
            people[day % 2].uuid,
            {"$browser": browser, "amount": day},
        )
        for day in range(20)
        for event, browser in (("$pageview", "Chrome"), ("signup", "Firefox"), ("$pageview", "Safari"))
    ]
    await insert_events(engine, team.id, rows)
    return len(rows)


def context(team: Team) -> TeamContext:
    return TeamContext(id=team.id, test_account_filters=TEST_ACCOUNTS)


def paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    if prefix:
        yield prefix
    children = (
        value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    )
    for key, child in children:
        yield from paths(child, (*prefix, key))


def replaced(payload: dict[str, Any], path: Path, new: Any) -> dict[str, Any]:
    copied = json.loads(json.dumps(payload))  # not deepcopy: it would keep shared sub-objects shared
    node: Any = copied
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = new
    return copied


def related(attr: str | None, path: str) -> bool:
    """The error names the replaced field, one of its parents (e.g. a union that failed as a whole),
    or a field inside it; emptied series are reported by the formula that refers to them."""
    if attr is None:
        return False
    if path == "series" and attr.startswith("trendsFilter__formula"):
        return True
    if path == "source":  # InsightVizNode's whole query: any field inside it
        return True
    return attr == path or path.startswith(attr + "__") or attr.startswith(path + "__")


async def outcome(run_query: RunQuery, payload: Any, team: Team) -> APIError | dict[str, Any]:
    try:
        return await run_query(payload, context(team), NOW)
    except APIError as error:
        return error


class TestWrongTypes:
    @pytest.mark.parametrize("name", sorted(QUERIES))
    async def test_every_field_with_every_wrong_type(
        self, seeded: int, team: Team, run_query: RunQuery, engine: AsyncEngine, name: str
    ) -> None:
        """Each replacement is refused with a 400 naming that field (or a parent/child of it), or
        runs and returns well-formed results."""
        payload = QUERIES[name]
        assert isinstance(await outcome(run_query, payload, team), dict)  # the unmodified query is valid
        problems = []
        for path in paths(payload):
            for value in WRONG:
                result = await outcome(run_query, replaced(payload, path, value), team)
                # Errors name fields inside the insight query, so InsightVizNode's `source` is dropped.
                where = "__".join(str(part) for part in path).removeprefix("source__")
                if isinstance(result, APIError):
                    if result.status_code != 400 or not related(result.attr, where):
                        problems.append((where, value, result.status_code, result.attr, result.detail))
                elif not isinstance(result.get("results"), list):
                    problems.append((where, value, 200, None, "no results list"))
        assert problems == [], "\n".join(map(str, problems))
        async with engine.connect() as connection:
            assert (await connection.execute(select(func.count()).select_from(Event))).scalar_one() == seeded


class TestInjection:
    INJECTIONS = [
        "'; DROP TABLE events; --",
        '" OR 1=1 --',
        "$pageview' OR '1'='1",
        "e.team_id) OR (1=1",
        "\\'; SELECT pg_sleep(10); --",
        "%' OR properties ->> 'a' LIKE '%",
        "$$; DELETE FROM persons; $$",
    ]

    @pytest.mark.parametrize("bad", INJECTIONS)
    async def test_event_names_keys_and_values_are_data(
        self, seeded: int, team: Team, run_query: RunQuery, engine: AsyncEngine, bad: str
    ) -> None:
        def daily(body: dict[str, Any]) -> list[float]:
            return [sum(day) for day in zip(*(item["data"] for item in body["results"]), strict=True)]

        base = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}]}
        everything = daily(await run_query(base, context(team), NOW))
        assert sum(everything) > 0
        no_such_event = await run_query(
            {**base, "series": [{"kind": "EventsNode", "event": bad, "custom_name": bad}]}, context(team), NOW
        )
        assert daily(no_such_event) == [0.0] * 8
        assert no_such_event["results"][0]["label"] == bad
        for key in ("$browser", bad):
            equal = await run_query(
                {**base, "properties": [{"key": key, "value": bad, "operator": "exact", "type": "event"}]},
                context(team),
                NOW,
            )
            assert daily(equal) == [0.0] * 8
            unequal = await run_query(
                {**base, "properties": [{"key": key, "value": bad, "operator": "is_not", "type": "person"}]},
                context(team),
                NOW,
            )
            assert daily(unequal) == everything
        by_bad_key = await run_query(
            {
                **base,
                "breakdownFilter": {"breakdown": bad},
                "series": [{**base["series"][0], "math_property": bad}],
            },
            context(team),
            NOW,
        )
        assert [item["breakdown_value"] for item in by_bad_key["results"]] == ["$$_posthog_breakdown_null_$$"]
        async with engine.connect() as connection:
            assert (await connection.execute(select(func.count()).select_from(Event))).scalar_one() == seeded

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("dateRange", {"date_from": "'; DROP TABLE events; --"}),
            ("compareFilter", {"compare": True, "compare_to": "-1w'; --"}),
            ("trendsFilter", {"formula": "__import__('os').system('true')"}),
            ("trendsFilter", {"formula": "A; DROP TABLE events"}),
            ("interval", "day'; --"),
        ],
    )
    async def test_injection_in_structured_fields_is_a_400(
        self, seeded: int, team: Team, run_query: RunQuery, field: str, value: Any
    ) -> None:
        payload = {
            "kind": "TrendsQuery",
            "series": [{"kind": "EventsNode", "event": "$pageview"}],
            field: value,
        }
        result = await outcome(run_query, payload, team)
        assert isinstance(result, ValidationError)
        assert str(result.attr).startswith(field)


class TestSizes:
    async def test_ten_thousand_values_are_fine(self, seeded: int, team: Team, run_query: RunQuery) -> None:
        values = [f"v{i}" for i in range(9_999)] + ["Chrome"]
        payload = {
            "kind": "TrendsQuery",
            "series": [{"kind": "EventsNode", "event": "$pageview"}],
            "properties": [{"key": "$browser", "value": values, "operator": "exact", "type": "event"}],
            "trendsFilter": {"display": "BoldNumber"},
        }
        body = await run_query(payload, context(team), NOW)
        assert body["results"][0]["aggregated_value"] == 8.0  # Chrome page views in the last 7 days + today

    @pytest.mark.parametrize(
        ("payload", "attr"),
        [
            (
                {"properties": [{"key": "$browser", "value": ["x"] * 10_001, "type": "event"}]},
                "properties__0__value",
            ),
            ({"properties": [FILTER] * 10_001}, "properties"),
            ({"series": [{"kind": "EventsNode", "event": "e"}] * 51}, "series"),
            (
                {"breakdownFilter": {"breakdown": "$browser", "breakdown_limit": 10_001}},
                "breakdownFilter__breakdown_limit",
            ),
            ({"properties": [{"key": "k" * 401, "value": "x", "type": "event"}]}, "properties__0__key"),
            ({"properties": [{"key": "k", "value": "x" * 65_536, "type": "event"}]}, "properties__0__value"),
            ({"trendsFilter": {"formula": "+".join(["A"] * 600)}}, "trendsFilter__formula"),
            ({"interval": "minute", "dateRange": {"date_from": "-1y"}}, "interval"),
            ({"dateRange": {"date_from": "-99999y"}}, "dateRange"),
        ],
    )
    async def test_oversized_inputs_are_400s(
        self, seeded: int, team: Team, run_query: RunQuery, payload: dict[str, Any], attr: str
    ) -> None:
        query = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}], **payload}
        result = await outcome(run_query, query, team)
        assert isinstance(result, ValidationError), result
        assert str(result.attr).startswith(attr), (result.attr, result.detail)


def nested_group(depth: int) -> dict[str, Any]:
    group: dict[str, Any] = {"type": "AND", "values": [FILTER]}
    for _ in range(depth - 1):
        group = {"type": "OR", "values": [group]}
    return group


class TestNesting:
    async def test_groups_nested_two_levels_work(self, seeded: int, team: Team, run_query: RunQuery) -> None:
        payload = {
            "kind": "TrendsQuery",
            "series": [{"kind": "EventsNode", "event": "$pageview"}],
            "properties": {"type": "AND", "values": [nested_group(3)]},
            "trendsFilter": {"display": "BoldNumber"},
        }
        assert (await run_query(payload, context(team), NOW))["results"][0]["aggregated_value"] == 8.0

    @pytest.mark.parametrize("depth", [6, 20, 200, 5_000])
    async def test_deep_groups_are_400s(
        self, seeded: int, team: Team, run_query: RunQuery, depth: int
    ) -> None:
        payload = {
            "kind": "TrendsQuery",
            "series": [{"kind": "EventsNode", "event": "$pageview"}],
            "properties": {"type": "AND", "values": [nested_group(depth)]},
        }
        result = await outcome(run_query, payload, team)
        assert isinstance(result, ValidationError)
        assert "nested too deeply" in result.detail

    async def test_deep_json_anywhere_is_a_400(self, seeded: int, team: Team, run_query: RunQuery) -> None:
        deep: Any = "x"
        for _ in range(10_000):
            deep = [deep]
        payload = {
            "kind": "TrendsQuery",
            "series": [{"kind": "EventsNode", "event": "$pageview", "response": deep}],
        }
        result = await outcome(run_query, payload, team)
        assert isinstance(result, ValidationError)
        assert result.attr == "query"


class TestRegexAndText:
    @pytest.mark.parametrize(
        "properties",
        [
            [{"key": "$browser", "value": "(", "operator": "regex", "type": "event"}],
            [{"key": "$browser", "value": "[a-", "operator": "not_regex", "type": "event"}],
            [{"key": "plan", "value": "*x", "operator": "regex", "type": "person"}],
            [{"key": "text", "value": "a{2,1}", "operator": "regex", "type": "element"}],
            {
                "type": "OR",
                "values": [
                    {
                        "type": "AND",
                        "values": [{"key": "k", "value": "(?<", "operator": "regex", "type": "event"}],
                    }
                ],
            },
        ],
    )
    async def test_invalid_regexes_are_400s_even_with_no_rows(
        self, team: Team, run_query: RunQuery, properties: Any
    ) -> None:
        payload = {
            "kind": "TrendsQuery",
            "series": [{"kind": "EventsNode", "event": "$pageview"}],
            "properties": properties,
        }
        result = await outcome(run_query, payload, team)
        assert isinstance(result, ValidationError)
        assert (result.status_code, result.code) == (400, "invalid_regex")

    async def test_invalid_regex_in_test_account_filters_or_dashboard_filters(
        self, team: Team, run_query: RunQuery
    ) -> None:
        payload = {
            "kind": "TrendsQuery",
            "series": [{"kind": "EventsNode", "event": "e"}],
            "filterTestAccounts": True,
        }
        bad = [{"key": "email", "value": "(", "operator": "regex", "type": "person"}]
        with pytest.raises(ValidationError) as error:
            await run_query(payload, TeamContext(id=team.id, test_account_filters=bad), NOW)
        assert error.value.code == "invalid_regex"
        with pytest.raises(ValidationError) as error:
            await run_query(payload, TeamContext(id=team.id), NOW, filters_override={"properties": bad})
        assert error.value.code == "invalid_regex"

    @pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x" * 70_000])
    async def test_unstorable_text_is_a_400(self, team: Team, run_query: RunQuery, text: str) -> None:
        for payload in (
            {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": text}]},
            {
                "kind": "TrendsQuery",
                "series": [{"kind": "EventsNode", "event": "e"}],
                "properties": [{"key": "k", "value": text, "operator": "icontains", "type": "event"}],
            },
        ):
            result = await outcome(run_query, payload, team)
            assert isinstance(result, ValidationError), result
            assert result.attr is not None

    @pytest.mark.parametrize("number", [float("nan"), float("inf"), -float("inf")])
    async def test_non_finite_numbers_are_400s(self, team: Team, run_query: RunQuery, number: float) -> None:
        for payload in (
            {
                "kind": "TrendsQuery",
                "series": [{"kind": "EventsNode", "event": "e", "math_multiplier": number}],
            },
            {
                "kind": "TrendsQuery",
                "series": [{"kind": "EventsNode", "event": "e"}],
                "properties": [{"key": "k", "value": number, "operator": "gt", "type": "event"}],
            },
        ):
            result = await outcome(run_query, payload, team)
            assert isinstance(result, ValidationError), result
