"""FunnelCorrelationQuery: odds ratios of events and properties against an independent computation."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import ValidationError
from app.query.api import TeamContext
from tests.factories.events import EventRow, PersonRow, insert_events, insert_persons
from tests.factories.identity import Team
from tests.query import funnel_oracle
from tests.query.conftest import RunQuery

NOW = datetime(2024, 3, 14, 15, 30, tzinfo=UTC)
T0 = datetime(2024, 3, 10, 9, 0, tzinfo=UTC)
WINDOW = timedelta(days=1)


def correlation(kind: str = "events", **extra: Any) -> dict[str, Any]:
    funnel = {
        "kind": "FunnelsQuery",
        "series": [{"kind": "EventsNode", "event": "view"}, {"kind": "EventsNode", "event": "buy"}],
        "dateRange": {"date_from": "-7d"},
        "funnelsFilter": {"funnelWindowInterval": 1, "funnelWindowIntervalUnit": "day"},
    }
    return {
        "kind": "FunnelCorrelationQuery",
        "source": {"kind": "FunnelsActorsQuery", "source": funnel},
        "funnelCorrelationType": kind,
        **extra,
    }


def ev(person: uuid.UUID, event: str, hours: float, **props: Any) -> EventRow:
    return EventRow(event=event, timestamp=T0 + timedelta(hours=hours), person=person, properties=props)


def odds(s: int, f: int, success_total: int, failure_total: int) -> float:
    """The 2x2 table with one added to every cell."""
    return ((s + 1) / (success_total - s + 1)) / ((f + 1) / (failure_total - f + 1))


class Harness:
    def __init__(self, engine: AsyncEngine, team: Team, run_query: RunQuery) -> None:
        self.engine, self.team, self.run_query = engine, team, run_query

    async def seed(self, events: list[EventRow], persons: list[PersonRow] | None = None) -> None:
        await insert_persons(self.engine, self.team.id, persons or [])
        await insert_events(self.engine, self.team.id, events)

    async def run(self, query: dict[str, Any]) -> dict[str, Any]:
        return await self.run_query(query, TeamContext(id=self.team.id), NOW)


@pytest.fixture
def db(engine: AsyncEngine, team: Team, run_query: RunQuery) -> Harness:
    return Harness(engine, team, run_query)


def summary(body: dict[str, Any]) -> list[tuple[str, int, int, str]]:
    return [
        (e["event"]["event"], e["success_count"], e["failure_count"], e["correlation_type"])
        for e in body["results"]["events"]
    ]


class TestEvents:
    async def test_odds_ratios_and_the_span_that_counts(self, db: Harness) -> None:
        events = []
        # 20 converters: 15 watched the video in between; 10 failures: 2 watched it (inside the window).
        for i in range(30):
            person = uuid.uuid4()
            events.append(ev(person, "view", 0))
            converted = i < 20
            if converted:
                events.append(ev(person, "buy", 5))
            if (converted and i < 15) or (not converted and i < 22):
                events.append(ev(person, "video", 2))
            events.append(ev(person, "help", -1))  # before the entry: never counts
            if converted:
                events.append(ev(person, "help", 6))  # after the conversion: doesn't count
            else:
                events.append(ev(person, "help", 25))  # after the window closed: doesn't count
            if i % 3 == 0:
                events.append(ev(person, "logout", 1))
        await db.seed(events)
        body = await db.run(correlation())
        assert body["results"]["skewed"] is False
        results = {e["event"]["event"]: e for e in body["results"]["events"]}
        assert set(results) == {"video", "logout"}  # steps and out-of-span events never appear
        assert results["video"]["event"] == {"event": "video", "properties": {}, "elements": []}
        assert (results["video"]["success_count"], results["video"]["failure_count"]) == (15, 2)
        assert results["video"]["odds_ratio"] == pytest.approx(odds(15, 2, 20, 10))
        assert results["video"]["correlation_type"] == "success"
        logout = (sum(1 for i in range(20) if i % 3 == 0), sum(1 for i in range(20, 30) if i % 3 == 0))
        assert (results["logout"]["success_count"], results["logout"]["failure_count"]) == logout
        assert results["logout"]["odds_ratio"] == pytest.approx(odds(*logout, 20, 10))
        assert results["logout"]["correlation_type"] == (
            "success" if odds(*logout, 20, 10) > 1 else "failure"
        )
        excluded = await db.run(correlation(funnelCorrelationExcludeEventNames=["video"]))
        assert [e["event"]["event"] for e in excluded["results"]["events"]] == ["logout"]

    async def test_no_failures_is_skewed_and_empty(self, db: Harness) -> None:
        person = uuid.uuid4()
        await db.seed([ev(person, "view", 0), ev(person, "video", 1), ev(person, "buy", 2)])
        assert (await db.run(correlation()))["results"] == {"events": [], "skewed": True}

    async def test_against_the_funnel_oracle(self, db: Harness) -> None:
        rng = random.Random(8)
        persons = [uuid.uuid4() for _ in range(60)]
        events = [
            EventRow(
                event=rng.choices(["view", "buy", "a", "b", "c", "d"], [30, 12, 10, 10, 5, 5])[0],
                timestamp=T0 + timedelta(minutes=rng.randrange(0, 60 * 24 * 3)),
                person=rng.choice(persons),
            )
            for _ in range(900)
        ]
        await db.seed(events)
        spec = funnel_oracle.Funnel(
            steps=[funnel_oracle.event_is("view"), funnel_oracle.event_is("buy")], window=WINDOW
        )
        actors: dict[uuid.UUID, tuple[bool, datetime, datetime]] = {}
        for person in persons:
            mine = [e for e in events if e.person == person]
            [run] = funnel_oracle.runs(spec, mine) or [None]
            if run is not None:
                success = run.depth == 2
                actors[person] = (success, run.times[0], run.times[1] if success else run.times[0] + WINDOW)
        success_total = sum(1 for s, _, _ in actors.values() if s)
        failure_total = len(actors) - success_total
        seen: dict[str, dict[bool, set[uuid.UUID]]] = defaultdict(lambda: {True: set(), False: set()})
        for e in events:
            if e.person in actors and e.event not in ("view", "buy"):
                success, start, end = actors[e.person]
                if start < e.timestamp < end:
                    seen[e.event][success].add(e.person)
        threshold = min(25, 0.02 * len(actors))
        expected = []
        for name, who in sorted(seen.items()):
            s, f = len(who[True]), len(who[False])
            if s + f >= threshold:
                ratio = odds(s, f, success_total, failure_total)
                expected.append((name, s, f, "success" if ratio > 1 else "failure", ratio))
        positive = sorted((x for x in expected if x[3] == "success"), key=lambda x: -x[4])
        negative = sorted((x for x in expected if x[3] == "failure"), key=lambda x: x[4])
        assert positive  # the data has both kinds
        assert negative
        body = await db.run(correlation())
        assert summary(body) == [x[:4] for x in positive + negative]
        assert [e["odds_ratio"] for e in body["results"]["events"]] == pytest.approx(
            [x[4] for x in positive + negative]
        )


class TestProperties:
    async def test_person_properties(self, db: Harness) -> None:
        people, events = [], []
        for i in range(40):
            person = PersonRow(uuid.uuid4(), {"plan": "pro" if i % 4 == 0 else "free", "beta": i < 10})
            people.append(person)
            events.append(ev(person.uuid, "view", 0))
            if i % 2 == 0:
                events.append(ev(person.uuid, "buy", 1))
        await db.seed(events, people)
        body = await db.run(correlation("properties", funnelCorrelationNames=["plan"]))
        got = {
            e["event"]["event"]: (e["success_count"], e["failure_count"]) for e in body["results"]["events"]
        }
        assert got == {"plan::pro": (10, 0), "plan::free": (10, 20)}
        everything = await db.run(
            correlation("properties", funnelCorrelationNames=["$all"], funnelCorrelationExcludeNames=["plan"])
        )
        got = {
            e["event"]["event"]: (e["success_count"], e["failure_count"])
            for e in everything["results"]["events"]
        }
        assert got == {"beta::true": (5, 5), "beta::false": (15, 15)}

    async def test_event_properties(self, db: Harness) -> None:
        events = []
        for i in range(30):
            person = uuid.uuid4()
            events.append(ev(person, "view", 0))
            events.append(ev(person, "video", 1, quality="hd" if i < 12 else "sd", player="web"))
            if i < 15:
                events.append(ev(person, "buy", 2))
        await db.seed(events)
        body = await db.run(
            correlation(
                "event_with_properties",
                funnelCorrelationEventNames=["video"],
                funnelCorrelationEventExcludePropertyNames=["player"],
            )
        )
        got = {
            e["event"]["event"]: (e["success_count"], e["failure_count"]) for e in body["results"]["events"]
        }
        assert got == {"video::quality::hd": (12, 0), "video::quality::sd": (3, 15)}


class TestBadInput:
    @pytest.mark.parametrize(
        ("query", "attr"),
        [
            (correlation("properties"), "funnelCorrelationNames"),
            (correlation("event_with_properties"), "funnelCorrelationEventNames"),
            (correlation("sideways"), "funnelCorrelationType"),
            ({**correlation(), "source": {"kind": "FunnelsActorsQuery"}}, "source__source"),
        ],
    )
    async def test_400(self, db: Harness, query: dict[str, Any], attr: str) -> None:
        with pytest.raises(ValidationError) as caught:
            await db.run(query)
        assert caught.value.attr == attr

    async def test_funnel_errors_pass_through(self, db: Harness) -> None:
        query = correlation()
        query["source"]["source"]["series"] = query["source"]["source"]["series"][:1]
        with pytest.raises(ValidationError) as caught:
            await db.run(query)
        assert caught.value.attr == "series"
