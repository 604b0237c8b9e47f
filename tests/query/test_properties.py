"""Every property operator, groups, person/element filters and test-account filtering, each checked
against a plain-Python evaluation of the same rows."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.elements_chain import Element, elements_to_chain
from app.query.api import TeamContext
from tests.factories.events import EventRow, PersonRow, insert_events, insert_persons, new_person
from tests.factories.identity import Team
from tests.query.conftest import RunQuery
from tests.query.dataset import as_number

NOW = datetime(2024, 3, 14, 12, tzinfo=UTC)
MISSING = object()
VALUES: list[Any] = [
    "Chrome",
    "chrome",
    "Firefox",
    5,
    "12",
    12.5,
    "abc",
    True,
    None,
    MISSING,
    "2024-01-05",
    "2024-01-05T10:00:00Z",
    "2024-02-01 08:00:00",
    "not a date",
    "",
]
CHAINS = [
    elements_to_chain(
        [
            Element(tag_name="button", attr_class=["cta", "big"], text="Sign up", href="/signup"),
            Element(tag_name="div", attr_class=["hero"], attr_id="top"),
        ]
    ),
    elements_to_chain([Element(tag_name="a", text="Pricing", href="https://x.com/pricing")]),
    elements_to_chain([Element(tag_name="button", text='Say "hi"'), Element(tag_name="form")]),
    "",
]


def text_of(value: Any) -> str | None:
    if value is MISSING or value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def date_of(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@pytest.fixture
async def people(engine: AsyncEngine, team: Team) -> list[PersonRow]:
    persons = [new_person({"email": "a@test.com"}), new_person({"email": "b@example.com"}), new_person({})]
    await insert_persons(engine, team.id, persons)
    events = []
    for i, value in enumerate(VALUES):
        properties = {} if value is MISSING else {"v": value}
        events.append(
            EventRow(
                "e",
                NOW - timedelta(hours=i + 1),
                persons[i % 3].uuid,
                properties,
                elements_chain=CHAINS[i % len(CHAINS)],
            )
        )
    await insert_events(engine, team.id, events)
    return persons


async def count(run_query: RunQuery, team: Team, properties: Any, **extra: Any) -> float:
    body = await run_query(
        {
            "kind": "TrendsQuery",
            "series": [{"kind": "EventsNode", "event": "e"}],
            "trendsFilter": {"display": "BoldNumber"},
            "properties": properties,
            **extra,
        },
        TeamContext(
            id=team.id,
            test_account_filters=[
                {"key": "email", "value": "test.com", "operator": "not_icontains", "type": "person"}
            ],
        ),
        NOW,
    )
    return float(body["results"][0]["aggregated_value"])


def expected(predicate: Callable[[Any], bool]) -> float:
    return float(sum(1 for v in VALUES if predicate(v)))


def numeric(value: Any) -> float | None:
    return None if value is MISSING else as_number(value)


OPERATORS: list[tuple[str, Any, Callable[[Any], bool]]] = [
    ("exact", "Chrome", lambda v: text_of(v) == "Chrome"),
    ("exact", ["Chrome", "Firefox", 5], lambda v: text_of(v) in ("Chrome", "Firefox", "5")),
    ("exact", True, lambda v: text_of(v) == "true"),
    ("is_not", "Chrome", lambda v: text_of(v) != "Chrome"),
    ("is_not", ["Chrome", "abc"], lambda v: text_of(v) not in ("Chrome", "abc")),
    ("in", ["chrome", "12"], lambda v: text_of(v) in ("chrome", "12")),
    ("not_in", ["chrome", "12"], lambda v: text_of(v) not in ("chrome", "12")),
    ("icontains", "CHR", lambda v: "chr" in (text_of(v) or "").lower()),
    ("icontains", "%", lambda v: "%" in (text_of(v) or "")),
    ("not_icontains", "chr", lambda v: "chr" not in (text_of(v) or "").lower()),
    (
        "regex",
        "^[cC]h",
        lambda v: re.search("^[cC]h", text_of(v) or "\x00") is not None and text_of(v) is not None,
    ),
    ("not_regex", "^[cC]h", lambda v: text_of(v) is None or re.search("^[cC]h", text_of(v) or "") is None),
    ("gt", 6, lambda v: (n := numeric(v)) is not None and n > 6),
    ("gte", "12", lambda v: (n := numeric(v)) is not None and n >= 12),
    ("lt", 12.5, lambda v: (n := numeric(v)) is not None and n < 12.5),
    ("lte", 5, lambda v: (n := numeric(v)) is not None and n <= 5),
    ("between", [5, 12], lambda v: (n := numeric(v)) is not None and 5 <= n <= 12),
    ("not_between", [5, 12], lambda v: not ((n := numeric(v)) is not None and 5 <= n <= 12)),
    ("is_set", None, lambda v: text_of(v) is not None),
    ("is_not_set", None, lambda v: text_of(v) is None),
    (
        "is_date_before",
        "2024-01-06",
        lambda v: (d := date_of(v)) is not None and d < datetime(2024, 1, 6, tzinfo=UTC),
    ),
    (
        "is_date_after",
        "2024-01-05T12:00:00Z",
        lambda v: (d := date_of(v)) is not None and d > datetime(2024, 1, 5, 12, tzinfo=UTC),
    ),
    (
        "is_date_exact",
        "2024-01-05",
        lambda v: (d := date_of(v)) is not None and d.date().isoformat() == "2024-01-05",
    ),
]


class TestOperators:
    @pytest.mark.parametrize(("operator", "value", "predicate"), OPERATORS)
    async def test_event_property_operator(
        self,
        people: list[PersonRow],
        team: Team,
        run_query: RunQuery,
        operator: str,
        value: Any,
        predicate: Any,
    ) -> None:
        filters = [{"key": "v", "value": value, "operator": operator, "type": "event"}]
        assert await count(run_query, team, filters) == expected(predicate)


def person_index(i: int) -> int:
    return i % 3


class TestGroupsAndSources:
    async def test_person_property(self, people: list[PersonRow], team: Team, run_query: RunQuery) -> None:
        filters = [{"key": "email", "value": "test.com", "operator": "icontains", "type": "person"}]
        assert await count(run_query, team, filters) == float(
            sum(1 for i in range(len(VALUES)) if i % 3 == 0)
        )

    async def test_and_or_groups_nested_two_levels(
        self, people: list[PersonRow], team: Team, run_query: RunQuery
    ) -> None:
        group = {
            "type": "OR",
            "values": [
                {
                    "type": "AND",
                    "values": [
                        {"key": "v", "value": "chr", "operator": "icontains", "type": "event"},
                        {
                            "type": "OR",
                            "values": [
                                {"key": "email", "value": "a@test.com", "type": "person"},
                                {"key": "email", "operator": "is_not_set", "type": "person"},
                            ],
                        },
                    ],
                },
                {"type": "AND", "values": [{"key": "v", "value": 5, "operator": "exact", "type": "event"}]},
            ],
        }

        def matches(i: int, v: Any) -> bool:
            chrome = "chr" in (text_of(v) or "").lower()
            return (chrome and i % 3 in (0, 2)) or text_of(v) == "5"

        got = await count(run_query, team, group)
        assert got == float(sum(1 for i, v in enumerate(VALUES) if matches(i, v)))

    async def test_filter_test_accounts(
        self, people: list[PersonRow], team: Team, run_query: RunQuery
    ) -> None:
        got = await count(run_query, team, [], filterTestAccounts=True)
        assert got == float(sum(1 for i in range(len(VALUES)) if i % 3 != 0))


ELEMENT_CASES: list[tuple[str, str, Any, set[int]]] = [
    ("tag_name", "exact", "button", {0, 2}),
    ("tag_name", "exact", "div", {0}),
    ("text", "exact", "Sign up", {0}),
    ("text", "exact", 'Say "hi"', {2}),
    ("text", "icontains", "pric", {1}),
    ("text", "regex", "^S", {0, 2}),
    ("href", "icontains", "pricing", {1}),
    ("href", "exact", "/signup", {0}),
    ("selector", "exact", "div > button.cta", {0}),
    ("selector", "exact", "#top button", {0}),
    ("selector", "exact", "form button", {2}),
    ("selector", "exact", "button.missing", set()),
]


class TestElements:
    @pytest.mark.parametrize(("key", "operator", "value", "chains"), ELEMENT_CASES)
    async def test_element_filter(
        self,
        people: list[PersonRow],
        team: Team,
        run_query: RunQuery,
        key: str,
        operator: str,
        value: Any,
        chains: set[int],
    ) -> None:
        filters = [{"key": key, "value": value, "operator": operator, "type": "element"}]
        got = await count(run_query, team, filters)
        assert got == float(sum(1 for i in range(len(VALUES)) if i % len(CHAINS) in chains))
