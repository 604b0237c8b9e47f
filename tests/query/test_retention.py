"""RetentionQuery results: hand-written cases and random events against the Python oracle."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import ValidationError
from app.models.actions import Action
from app.query.api import TeamContext
from tests.factories.events import EventRow, insert_events
from tests.factories.identity import Team
from tests.query import retention_oracle as oracle
from tests.query.conftest import RunQuery

NOW = datetime(2024, 3, 14, 15, 30, tzinfo=UTC)  # a Thursday


def retention(**retention_filter: Any) -> dict[str, Any]:
    query: dict[str, Any] = {"kind": "RetentionQuery", "retentionFilter": retention_filter}
    for key in ("breakdownFilter", "dateRange", "properties"):
        if key in retention_filter:
            query[key] = retention_filter.pop(key)
    return query


def entity(event: str, **extra: Any) -> dict[str, Any]:
    return {"id": event, "type": "events", **extra}


def grid(body: dict[str, Any]) -> list[list[int]]:
    return [[v["count"] for v in row["values"]] for row in body["results"]]


def ev(person: uuid.UUID, event: str, when: datetime, **props: Any) -> EventRow:
    return EventRow(event=event, timestamp=when, person=person, properties=props)


class Harness:
    def __init__(self, engine: AsyncEngine, team: Team, run_query: RunQuery) -> None:
        self.engine, self.team, self.run_query = engine, team, run_query

    async def seed(self, events: list[EventRow]) -> None:
        await insert_events(self.engine, self.team.id, events)

    async def run(self, query: dict[str, Any], tz: str = "UTC", now: datetime = NOW) -> dict[str, Any]:
        return await self.run_query(query, TeamContext(id=self.team.id, timezone=tz), now)


@pytest.fixture
def db(engine: AsyncEngine, team: Team, run_query: RunQuery) -> Harness:
    return Harness(engine, team, run_query)


def day(n: int, hour: int = 12) -> datetime:
    """Day n of March 2024 at `hour` UTC."""
    return datetime(2024, 3, n, hour, tzinfo=UTC)


class TestShape:
    async def test_daily_recurring_and_first_time(self, db: Harness) -> None:
        a, b, c = (uuid.uuid4() for _ in range(3))
        await db.seed(
            [
                ev(a, "$pageview", day(1)),  # before the 8 cohorts: first ever for a
                ev(a, "$pageview", day(8)), ev(a, "$pageview", day(9)), ev(a, "$pageview", day(11)),
                ev(b, "$pageview", day(9)), ev(b, "$pageview", day(10)),
                ev(c, "signup", day(7)), ev(c, "$pageview", day(14)),
            ]
        )  # fmt: skip
        body = await db.run(retention(totalIntervals=8, retentionType="retention_recurring"))
        rows = body["results"]
        assert [r["date"] for r in rows] == [f"2024-03-{d:02d}T00:00:00Z" for d in range(7, 15)]
        assert [r["label"] for r in rows] == [f"Day {i}" for i in range(8)]
        assert [len(r["values"]) for r in rows] == list(range(8, 0, -1))
        assert rows[0]["values"][:2] == [{"count": 0, "label": "Day 0"}, {"count": 0, "label": "Day 1"}]
        assert grid(body) == [
            [0, 0, 0, 0, 0, 0, 0, 0],  # 03-07 (c's signup isn't a pageview)
            [1, 1, 0, 1, 0, 0, 0],  # 03-08: a, back on 9 and 11
            [2, 1, 1, 0, 0, 0],  # 03-09: a and b; b on 10, a on 11
            [1, 0, 0, 0, 0],  # 03-10: b
            [1, 0, 0, 0],  # 03-11: a
            [0, 0, 0],
            [0, 0],
            [1],  # 03-14: c
        ]
        first = await db.run(retention(retentionType="retention_first_time"))
        assert grid(first)[2] == [1, 1, 0, 0, 0, 0]  # only b: a's first pageview was on 03-01
        assert grid(first)[7] == [1]

    async def test_target_and_returning_entities_and_cumulative(self, db: Harness) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        await db.seed(
            [
                ev(a, "signup", day(10)), ev(a, "buy", day(13)),
                ev(b, "signup", day(10), plan="pro"), ev(b, "buy", day(11)),
            ]
        )  # fmt: skip
        query = retention(
            targetEntity=entity("signup"), returningEntity=entity("buy"), retentionType="retention_first_time"
        )
        assert grid(await db.run(query))[3] == [2, 1, 0, 1, 0]
        query["retentionFilter"]["cumulative"] = True
        assert grid(await db.run(query))[3] == [2, 2, 1, 1, 0]
        query["retentionFilter"]["targetEntity"]["properties"] = [
            {"key": "plan", "value": "pro", "type": "event"}
        ]
        query["retentionFilter"]["cumulative"] = False
        assert grid(await db.run(query))[3] == [1, 1, 0, 0, 0]

    async def test_actions_and_minimum_occurrences(self, db: Harness) -> None:
        async with db.engine.begin() as connection:
            action_id = (
                await connection.execute(
                    insert(Action)
                    .values(team_id=db.team.id, name="Bought", steps=[{"event": "buy"}, {"event": "upgrade"}])
                    .returning(Action.id)
                )
            ).scalar_one()
        a = uuid.uuid4()
        await db.seed(
            [
                ev(a, "signup", day(12)),
                ev(a, "upgrade", day(13)),
                ev(a, "buy", day(14)),
                ev(a, "buy", day(14)),
            ]
        )
        query = retention(
            targetEntity=entity("signup"),
            returningEntity={"id": action_id, "type": "actions"},
            totalIntervals=3,
        )
        assert grid(await db.run(query)) == [[1, 1, 1], [0, 0], [0]]
        query["retentionFilter"]["minimumOccurrences"] = 2
        assert grid(await db.run(query)) == [[1, 0, 1], [0, 0], [0]]

    async def test_first_ever_occurrence_needs_the_first_event_to_match(self, db: Harness) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        await db.seed(
            [
                ev(a, "signup", day(12), plan="free"), ev(a, "signup", day(13), plan="pro"),
                ev(b, "signup", day(13), plan="pro"),
            ]
        )  # fmt: skip
        pro = entity("signup", properties=[{"key": "plan", "value": "pro", "type": "event"}])
        first_ever = await db.run(
            retention(targetEntity=pro, totalIntervals=3, retentionType="retention_first_ever_occurrence")
        )
        assert grid(first_ever) == [[0, 0, 0], [1, 0], [0]]  # only b
        first_time = await db.run(
            retention(targetEntity=pro, totalIntervals=3, retentionType="retention_first_time")
        )
        assert grid(first_time) == [[0, 0, 0], [2, 0], [0]]

    async def test_month_ends_in_a_timezone(self, db: Harness) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        events = [
            ev(a, "$pageview", datetime(2024, 1, 31, 12, tzinfo=UTC)),
            ev(a, "$pageview", datetime(2024, 3, 1, 3, tzinfo=UTC)),  # Feb 29, 19:00 in Los Angeles
            ev(b, "$pageview", datetime(2024, 2, 1, 5, tzinfo=UTC)),  # Jan 31 in Los Angeles
            ev(b, "$pageview", datetime(2024, 2, 29, 23, tzinfo=UTC)),
        ]
        await db.seed(events)
        query = retention(period="Month", totalIntervals=3)
        utc = await db.run(query, "UTC")
        assert [r["date"] for r in utc["results"]] == [
            "2024-01-01T00:00:00Z",
            "2024-02-01T00:00:00Z",
            "2024-03-01T00:00:00Z",
        ]
        assert grid(utc) == [[1, 0, 1], [1, 0], [1]]
        la = await db.run(query, "America/Los_Angeles")
        assert [r["date"] for r in la["results"]] == [
            "2024-01-01T00:00:00-08:00",
            "2024-02-01T00:00:00-08:00",
            "2024-03-01T00:00:00-08:00",
        ]
        assert grid(la) == [[2, 2, 0], [2, 0], [0]]

    async def test_breakdown_limit_other_and_null(self, db: Harness) -> None:
        events = []
        for browser, size in [("Chrome", 3), ("Safari", 2), (None, 2), ("Edge", 1)]:
            for _ in range(size):
                person = uuid.uuid4()
                events += [
                    ev(person, "$pageview", day(13), browser=browser),
                    ev(person, "$pageview", day(14), browser=browser),
                ]
        await db.seed(events)
        body = await db.run(
            retention(totalIntervals=2, breakdownFilter={"breakdown": "browser", "breakdown_limit": 2})
        )
        rows = [(r["breakdown_value"], [v["count"] for v in r["values"]]) for r in body["results"]]
        assert rows == [
            ("Chrome", [3, 3]), ("Chrome", [3]),
            ("", [2, 2]), ("", [2]),
            (oracle.OTHER, [3, 3]), (oracle.OTHER, [3]),
        ]  # fmt: skip
        assert body["hasMore"] is True


class TestAgainstOracle:
    @pytest.mark.parametrize("tz", ["UTC", "America/Los_Angeles", "Asia/Kolkata"])
    @pytest.mark.parametrize(
        ("period", "total", "retention_type"),
        [
            ("day", 10, "retention_recurring"),
            ("day", 8, "retention_first_time"),
            ("week", 6, "retention_recurring"),
            ("week", 5, "retention_first_ever_occurrence"),
            ("month", 4, "retention_first_time"),
            ("hour", 24, "retention_recurring"),
            ("day", 70, "retention_recurring"),  # periods past the first 62-bit mask word
        ],
    )
    async def test_random(self, db: Harness, tz: str, period: str, total: int, retention_type: str) -> None:
        rng = random.Random(f"{tz}{period}{retention_type}")
        persons = [uuid.uuid4() for _ in range(30)]
        span = {"hour": timedelta(hours=30), "day": timedelta(days=14), "week": timedelta(weeks=7)}.get(
            period, timedelta(days=150)
        )
        events = [
            EventRow(
                event=rng.choice(["$pageview", "$pageview", "signup", "buy"]),
                timestamp=NOW - span * rng.random(),
                person=rng.choice(persons),
                properties={"plan": rng.choice(["free", "pro"])},
            )
            for _ in range(600)
        ]
        await db.seed(events)
        target = {
            "id": "signup",
            "type": "events",
            "properties": [{"key": "plan", "value": "pro", "type": "event"}],
        }
        query = retention(
            period=period.capitalize(),
            totalIntervals=total,
            retentionType=retention_type,
            targetEntity=target,
            returningEntity=entity("$pageview"),
        )
        spec = oracle.Retention(
            target=lambda e: e.event == "signup" and e.properties.get("plan") == "pro",
            target_kind=lambda e: e.event == "signup",
            returning=lambda e: e.event == "$pageview",
            period=period,
            total=total,
            retention_type=retention_type,
            tz=tz,
        )
        expected = oracle.table(spec, events, NOW).get("", [[0] * (total - i) for i in range(total)])
        body = await db.run(query, tz)
        assert grid(body) == expected
        assert sum(row[0] for row in expected) > 0
        starts = oracle.starts(spec, NOW)
        assert [r["label"] for r in body["results"]] == [f"{period.capitalize()} {i}" for i in range(total)]
        assert body["results"][0]["date"].startswith(starts[0].strftime("%Y-%m-%dT%H"))

    @pytest.mark.parametrize("cumulative", [False, True])
    async def test_returning_to_the_target_event_over_many_periods(
        self, db: Harness, cumulative: bool
    ) -> None:
        rng = random.Random(70)
        persons = [uuid.uuid4() for _ in range(40)]
        events = [
            EventRow(
                event="$pageview",
                timestamp=NOW - timedelta(days=75) * rng.random(),
                person=rng.choice(persons),
            )
            for _ in range(900)
        ]
        await db.seed(events)
        query = retention(
            period="Day",
            totalIntervals=70,
            targetEntity=entity("$pageview"),
            returningEntity=entity("$pageview"),
            cumulative=cumulative,
        )
        spec = oracle.Retention(
            target=lambda e: e.event == "$pageview",
            target_kind=lambda e: e.event == "$pageview",
            returning=lambda e: e.event == "$pageview",
            period="day",
            total=70,
            retention_type="retention_recurring",
            tz="UTC",
            cumulative=cumulative,
        )
        expected = oracle.table(spec, events, NOW)[""]
        assert grid(await db.run(query)) == expected
        assert expected[65][1] > 0  # returns within the second mask word

    @pytest.mark.parametrize("cumulative", [False, True])
    async def test_random_breakdown(self, db: Harness, cumulative: bool) -> None:
        rng = random.Random(3)
        persons = [uuid.uuid4() for _ in range(25)]
        events = [
            EventRow(
                event="$pageview",
                timestamp=NOW - timedelta(days=10) * rng.random(),
                person=rng.choice(persons),
                properties={"browser": rng.choice(["Chrome", "Safari", "Edge", "Opera", None])},
            )
            for _ in range(400)
        ]
        await db.seed(events)
        query = retention(
            totalIntervals=9,
            cumulative=cumulative,
            breakdownFilter={"breakdown": "browser", "breakdown_limit": 3},
        )
        spec = oracle.Retention(
            target=lambda e: e.event == "$pageview",
            returning=lambda e: e.event == "$pageview",
            total=9,
            cumulative=cumulative,
            breakdown="browser",
            breakdown_limit=3,
        )
        expected = oracle.ranked(spec, oracle.table(spec, events, NOW))
        body = await db.run(query)
        got: dict[str, list[list[int]]] = {}
        order: list[str] = []
        for row in body["results"]:
            if row["breakdown_value"] not in got:
                order.append(row["breakdown_value"])
            got.setdefault(row["breakdown_value"], []).append([v["count"] for v in row["values"]])
        assert [(v, got[v]) for v in order] == expected


class TestBadInput:
    @pytest.mark.parametrize(
        ("query", "attr"),
        [
            (retention(period="Year"), "retentionFilter__period"),
            (retention(totalIntervals=0), "retentionFilter__totalIntervals"),
            (retention(totalIntervals=5000), "retentionFilter__totalIntervals"),
            (retention(retentionType="retention_forever"), "retentionFilter__retentionType"),
            (retention(targetEntity={"id": "x", "type": "actions"}), "retentionFilter__targetEntity__id"),
            (retention(aggregationType="sum"), "retentionFilter__aggregationType"),
            (retention(minimumOccurrences=0), "retentionFilter__minimumOccurrences"),
            (
                retention(breakdownFilter={"breakdowns": [{"property": "a"}, {"property": "b"}]}),
                "breakdownFilter__breakdowns",
            ),
            ({"kind": "RetentionQuery"}, "retentionFilter"),
        ],
    )
    async def test_400(self, db: Harness, query: dict[str, Any], attr: str) -> None:
        with pytest.raises(ValidationError) as caught:
            await db.run(query)
        assert caught.value.status_code == 400
        assert caught.value.attr == attr

    async def test_unknown_action_and_bad_regex(self, db: Harness) -> None:
        with pytest.raises(ValidationError, match="does not exist"):
            await db.run(retention(returningEntity={"id": 4242, "type": "actions"}))
        bad = entity("x", properties=[{"key": "u", "value": "[", "operator": "regex", "type": "event"}])
        with pytest.raises(ValidationError) as caught:
            await db.run(retention(targetEntity=bad))
        assert caught.value.code == "invalid_regex"
