"""FunnelsQuery results: hand-written hard cases, and random event sets against the Python oracle."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import ValidationError
from app.query.api import TeamContext
from tests.factories.events import EventRow, insert_events
from tests.factories.identity import Team
from tests.query import funnel_oracle as oracle
from tests.query.conftest import RunQuery

NOW = datetime(2024, 3, 14, 15, 30, tzinfo=UTC)
DAY0 = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)
RANGE = {"date_from": "2024-03-01", "date_to": "2024-03-14"}


def at(minutes: float) -> datetime:
    return DAY0 + timedelta(minutes=minutes)


def ev(person: uuid.UUID, event: str, minutes: float, **props: Any) -> EventRow:
    return EventRow(event=event, timestamp=at(minutes), person=person, properties=props)


def funnel(*events: str, **filters: Any) -> dict[str, Any]:
    query: dict[str, Any] = {
        "kind": "FunnelsQuery",
        "series": [{"kind": "EventsNode", "event": e} for e in events],
        "dateRange": filters.pop("dateRange", RANGE),
    }
    if "breakdownFilter" in filters:
        query["breakdownFilter"] = filters.pop("breakdownFilter")
    if filters:
        query["funnelsFilter"] = filters
    return query


def counts(body: dict[str, Any]) -> list[int]:
    return [step["count"] for step in body["results"]]


@pytest.fixture
def people() -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(8)]


class Harness:
    def __init__(self, engine: AsyncEngine, team: Team, run_query: RunQuery) -> None:
        self.engine, self.team, self.run_query = engine, team, run_query

    async def seed(self, events: list[EventRow]) -> None:
        await insert_events(self.engine, self.team.id, events)

    async def run(self, query: dict[str, Any], tz: str = "UTC") -> dict[str, Any]:
        return await self.run_query(query, TeamContext(id=self.team.id, timezone=tz), NOW)


@pytest.fixture
def db(engine: AsyncEngine, team: Team, run_query: RunQuery) -> Harness:
    return Harness(engine, team, run_query)


class TestSteps:
    async def test_shape_counts_and_conversion_times(self, db: Harness, people: list[uuid.UUID]) -> None:
        a, b, c = people[:3]
        await db.seed(
            [
                ev(a, "view", 0), ev(a, "signup", 10), ev(a, "buy", 70),
                ev(b, "view", 0), ev(b, "signup", 30),
                ev(c, "view", 5),
                ev(people[3], "signup", 1),  # never entered
            ]
        )  # fmt: skip
        body = await db.run(funnel("view", "signup", "buy"))
        assert counts(body) == [3, 2, 1]
        first, second, third = body["results"]
        assert first == {
            "action_id": "view",
            "name": "view",
            "custom_name": None,
            "order": 0,
            "people": [],
            "count": 3,
            "type": "events",
            "average_conversion_time": None,
            "median_conversion_time": None,
        }
        assert second["average_conversion_time"] == pytest.approx((600 + 1800) / 2)
        assert second["median_conversion_time"] == pytest.approx(1200)
        assert third["average_conversion_time"] == pytest.approx(3600)
        assert body["hasMore"] is False

    async def test_repeated_steps_need_distinct_events(self, db: Harness, people: list[uuid.UUID]) -> None:
        a, b, c = people[:3]
        await db.seed(
            [
                ev(a, "view", 0), ev(a, "view", 5), ev(a, "buy", 10),
                ev(b, "view", 0), ev(b, "buy", 10),
                ev(c, "view", 0), ev(c, "buy", 5), ev(c, "view", 10),
            ]
        )  # fmt: skip
        body = await db.run(funnel("view", "view", "buy"))
        assert counts(body) == [3, 2, 1]  # b has one view; c's second view comes after the buy

    async def test_a_person_converting_twice_counts_once(self, db: Harness, people: list[uuid.UUID]) -> None:
        a = people[0]
        await db.seed([ev(a, "view", 0), ev(a, "buy", 60), ev(a, "view", 120), ev(a, "buy", 125)])
        body = await db.run(funnel("view", "buy"))
        assert counts(body) == [1, 1]
        # The counted entry is the one finishing first: view@0 -> buy@60.
        assert body["results"][1]["average_conversion_time"] == pytest.approx(3600)

    async def test_latest_entry_before_the_conversion_counts(
        self, db: Harness, people: list[uuid.UUID]
    ) -> None:
        a = people[0]
        await db.seed([ev(a, "view", 0), ev(a, "view", 50), ev(a, "buy", 60)])
        body = await db.run(funnel("view", "buy"))
        assert body["results"][1]["average_conversion_time"] == pytest.approx(600)

    async def test_out_of_window_conversion(self, db: Harness, people: list[uuid.UUID]) -> None:
        a, b, c = people[:3]
        hour = 60
        await db.seed(
            [
                ev(a, "view", 0), ev(a, "buy", 2 * hour),  # exactly at the window's end: counts
                ev(b, "view", 0), ev(b, "buy", 2 * hour + 1),  # a minute late
                ev(c, "view", 0), ev(c, "view", 90), ev(c, "buy", 2 * hour + 1),  # a later entry makes it
            ]
        )  # fmt: skip
        body = await db.run(funnel("view", "buy", funnelWindowInterval=2, funnelWindowIntervalUnit="hour"))
        assert counts(body) == [3, 2]
        body = await db.run(funnel("view", "buy"))  # default window: 14 days
        assert counts(body) == [3, 3]

    async def test_steps_outside_the_date_range_do_not_count(
        self, db: Harness, people: list[uuid.UUID]
    ) -> None:
        a = people[0]
        await db.seed([ev(a, "view", 0), ev(a, "buy", 60 * 24 * 11)])  # buy on 2024-03-15
        body = await db.run(funnel("view", "buy"))
        assert counts(body) == [1, 0]

    async def test_exclusions(self, db: Harness, people: list[uuid.UUID]) -> None:
        a, b, c, d, e = people[:5]
        await db.seed(
            [
                ev(a, "view", 0), ev(a, "logout", 5), ev(a, "buy", 10),  # excluded between 0 and 1
                ev(b, "view", 0), ev(b, "buy", 10), ev(b, "logout", 15),  # after the conversion: fine
                ev(c, "view", 0), ev(c, "logout", 5), ev(c, "view", 7), ev(c, "buy", 10),  # later entry clean
                ev(d, "view", 0), ev(d, "logout", 5),  # dropped out, excluded within the window
                ev(e, "view", 0),
            ]
        )  # fmt: skip
        exclusion = [{"kind": "EventsNode", "event": "logout", "funnelFromStep": 0, "funnelToStep": 1}]
        body = await db.run(funnel("view", "buy", exclusions=exclusion))
        assert counts(body) == [3, 2]  # a and d disappear entirely
        assert body["results"][1]["average_conversion_time"] == pytest.approx((600 + 180) / 2)

    async def test_exclusion_between_later_steps(self, db: Harness, people: list[uuid.UUID]) -> None:
        a, b = people[:2]
        await db.seed(
            [
                ev(a, "view", 0), ev(a, "logout", 2), ev(a, "signup", 5), ev(a, "buy", 9),
                ev(b, "view", 0), ev(b, "signup", 5), ev(b, "logout", 7), ev(b, "buy", 9),
            ]
        )  # fmt: skip
        exclusion = [{"kind": "EventsNode", "event": "logout", "funnelFromStep": 1, "funnelToStep": 2}]
        body = await db.run(funnel("view", "signup", "buy", exclusions=exclusion))
        assert counts(body) == [1, 1, 1]

    async def test_same_timestamp_events_convert_in_funnel_order(
        self, db: Harness, people: list[uuid.UUID]
    ) -> None:
        a, b, c = people[:3]
        await db.seed(
            [
                ev(a, "buy", 0), ev(a, "view", 0),  # stored in reverse order, same instant
                ev(b, "view", 0), ev(b, "view", 0), ev(b, "buy", 0),
                ev(c, "view", 3), ev(c, "buy", 3), ev(c, "signup", 3),
            ]
        )  # fmt: skip
        assert counts(await db.run(funnel("view", "buy"))) == [3, 3]
        assert counts(await db.run(funnel("view", "view", "buy"))) == [3, 1, 1]
        assert counts(await db.run(funnel("view", "signup", "buy"))) == [3, 1, 1]

    async def test_exclusion_at_the_same_instant(self, db: Harness, people: list[uuid.UUID]) -> None:
        a, b = people[:2]
        await db.seed(
            [
                ev(a, "view", 0), ev(a, "logout", 0), ev(a, "buy", 5),  # same instant as the entry: counts
                ev(b, "view", 0), ev(b, "logout", 5), ev(b, "buy", 5),  # same instant as `to`: no
            ]
        )  # fmt: skip
        exclusion = [{"kind": "EventsNode", "event": "logout", "funnelFromStep": 0, "funnelToStep": 1}]
        assert counts(await db.run(funnel("view", "buy", exclusions=exclusion))) == [1, 1]

    async def test_strict_order_broken_by_an_unrelated_event(
        self, db: Harness, people: list[uuid.UUID]
    ) -> None:
        a, b, c = people[:3]
        await db.seed(
            [
                ev(a, "view", 0), ev(a, "scroll", 1), ev(a, "buy", 2),
                ev(b, "view", 0), ev(b, "buy", 2),
                ev(c, "view", 0), ev(c, "scroll", 1), ev(c, "view", 2), ev(c, "buy", 3),
            ]
        )  # fmt: skip
        assert counts(await db.run(funnel("view", "buy", funnelOrderType="strict"))) == [3, 2]
        assert counts(await db.run(funnel("view", "buy"))) == [3, 3]

    async def test_unordered(self, db: Harness, people: list[uuid.UUID]) -> None:
        a, b, c = people[:3]
        await db.seed(
            [
                ev(a, "buy", 0), ev(a, "signup", 5), ev(a, "view", 20),
                ev(b, "signup", 0), ev(b, "view", 60 * 24 * 3),
                ev(c, "view", 1),
            ]
        )  # fmt: skip
        body = await db.run(
            funnel("view", "signup", "buy", funnelOrderType="unordered", funnelWindowInterval=1)
        )
        assert counts(body) == [3, 1, 1]
        assert [s["name"] for s in body["results"]] == [
            "Completed 1 step",
            "Completed 2 steps",
            "Completed 3 steps",
        ]
        assert body["results"][1]["action_id"] is None
        assert body["results"][1]["average_conversion_time"] == pytest.approx(300)
        assert body["results"][2]["average_conversion_time"] == pytest.approx(900)

    async def test_step_properties_and_actions_names(self, db: Harness, people: list[uuid.UUID]) -> None:
        a, b = people[:2]
        await db.seed(
            [ev(a, "view", 0), ev(a, "buy", 5, plan="pro"), ev(b, "view", 0), ev(b, "buy", 5, plan="free")]
        )
        query = funnel("view", "buy")
        query["series"][1]["properties"] = [{"key": "plan", "value": "pro", "type": "event"}]
        query["series"][1]["custom_name"] = "Bought pro"
        body = await db.run(query)
        assert counts(body) == [2, 1]
        assert body["results"][1]["custom_name"] == "Bought pro"


class TestBreakdownAttribution:
    @pytest.fixture
    async def seeded(self, db: Harness, people: list[uuid.UUID]) -> Harness:
        a, b = people[:2]
        await db.seed(
            [
                ev(a, "view", 0, browser="Chrome"), ev(a, "buy", 5, browser="Safari"),
                ev(b, "view", 0), ev(b, "view", 1, browser="Firefox"), ev(b, "buy", 5, browser="Firefox"),
            ]
        )  # fmt: skip
        return db

    async def run(self, db: Harness, attribution: str, step: int | None = None) -> dict[str, list[int]]:
        filters: dict[str, Any] = {"breakdownAttributionType": attribution}
        if step is not None:
            filters["breakdownAttributionValue"] = step
        body = await db.run(funnel("view", "buy", breakdownFilter={"breakdown": "browser"}, **filters))
        result = {}
        for steps in body["results"]:
            assert {s["breakdown"] for s in steps} == {steps[0]["breakdown_value"]}
            result[steps[0]["breakdown_value"]] = [s["count"] for s in steps]
        return result

    async def test_first_touch(self, seeded: Harness) -> None:
        assert await self.run(seeded, "first_touch") == {"Chrome": [1, 1], "Firefox": [1, 1]}

    async def test_last_touch(self, seeded: Harness) -> None:
        assert await self.run(seeded, "last_touch") == {"Safari": [1, 1], "Firefox": [1, 1]}

    async def test_all_events(self, seeded: Harness) -> None:
        assert await self.run(seeded, "all_events") == {
            "Firefox": [1, 1],
            "Chrome": [1, 0],
            oracle.NULL: [1, 0],
        }

    async def test_step(self, seeded: Harness) -> None:
        assert await self.run(seeded, "step", 1) == {"Safari": [1, 1], "Firefox": [1, 1]}
        # Only step 0 must carry the value: b runs once per value seen on its views.
        assert await self.run(seeded, "step", 0) == {"Firefox": [1, 1], "Chrome": [1, 1], oracle.NULL: [1, 1]}

    async def test_multiple_breakdowns(self, db: Harness, people: list[uuid.UUID]) -> None:
        a, b = people[:2]
        await db.seed(
            [
                ev(a, "view", 0, browser="Chrome"), ev(a, "view", 1, browser="Chrome", os="Mac"),
                ev(a, "buy", 2),
                ev(b, "view", 0, os="Linux"), ev(b, "buy", 3, browser="Safari", os="Linux"),
            ]
        )  # fmt: skip
        breakdowns = {"breakdowns": [{"property": "browser"}, {"property": "os"}]}
        for attribution, expected in [
            ("first_touch", {("Chrome", oracle.NULL): [1, 1], (oracle.NULL, "Linux"): [1, 1]}),
            ("last_touch", {("Chrome", "Mac"): [1, 1], ("Safari", "Linux"): [1, 1]}),
        ]:
            body = await db.run(
                funnel("view", "buy", breakdownFilter=breakdowns, breakdownAttributionType=attribution)
            )
            got = {tuple(s[0]["breakdown_value"]): [x["count"] for x in s] for s in body["results"]}
            assert got == expected, attribution

    async def test_order_limit_and_other(self, db: Harness) -> None:
        events = []
        for i, (browser, buys) in enumerate([("A", 3), ("B", 1), ("C", 2), ("D", 0), ("E", 1)]):
            for j in range(3):
                person = uuid.uuid4()
                events.append(ev(person, "view", i + j, browser=browser))
                if j < buys:
                    events.append(ev(person, "buy", i + j + 1))
        await db.seed(events)
        body = await db.run(
            funnel("view", "buy", breakdownFilter={"breakdown": "browser", "breakdown_limit": 2})
        )
        assert [(s[0]["breakdown_value"], s[0]["count"], s[1]["count"]) for s in body["results"]] == [
            ("A", 3, 3),
            ("C", 3, 2),
            (oracle.OTHER, 9, 2),
        ]
        assert body["hasMore"] is True


class TestOtherVisualisations:
    async def test_time_to_convert(self, db: Harness, people: list[uuid.UUID]) -> None:
        gaps = [1, 2, 3, 10, 60]  # minutes
        events = []
        for person, gap in zip(people, gaps, strict=False):
            events += [ev(person, "view", 0), ev(person, "signup", gap), ev(person, "buy", gap + 1)]
        events.append(ev(people[6], "view", 0))
        await db.seed(events)
        body = await db.run(funnel("view", "signup", "buy", funnelVizType="time_to_convert", funnelToStep=1))
        seconds = [g * 60 for g in gaps]
        bins = 2  # ceil(cbrt(5))
        low, high = min(seconds), max(seconds)
        width = -(-(high - low) // bins)
        expected = [
            [low + i * width, sum(1 for s in seconds if (s - low) // width == i)] for i in range(bins + 1)
        ]
        assert body["results"] == {
            "bins": expected,
            "average_conversion_time": pytest.approx(sum(seconds) / 5),
        }
        custom = await db.run(funnel("view", "signup", "buy", funnelVizType="time_to_convert", binCount=4))
        assert len(custom["results"]["bins"]) == 5
        assert sum(count for _, count in custom["results"]["bins"]) == 5

    async def test_time_to_convert_without_conversions(self, db: Harness, people: list[uuid.UUID]) -> None:
        await db.seed([ev(people[0], "view", 0)])
        body = await db.run(funnel("view", "buy", funnelVizType="time_to_convert"))
        assert body["results"] == {"bins": [], "average_conversion_time": None}

    @pytest.mark.parametrize("tz", ["UTC", "America/Los_Angeles"])
    async def test_trends(self, db: Harness, people: list[uuid.UUID], tz: str) -> None:
        a, b, c = people[:3]
        day = 60 * 24
        await db.seed(
            [
                ev(a, "view", 0), ev(a, "buy", 10),
                ev(b, "view", 5), ev(b, "buy", day + 5),  # entered on day 0, converted the next day
                ev(c, "view", day), ev(a, "view", day),
            ]
        )  # fmt: skip
        query = funnel(
            "view",
            "buy",
            funnelVizType="trends",
            dateRange={"date_from": "2024-03-03", "date_to": "2024-03-06"},
        )
        [item] = (await db.run(query, tz))["results"]
        assert item["days"] == ["2024-03-03", "2024-03-04", "2024-03-05", "2024-03-06"]
        assert item["labels"] == ["3-Mar-2024", "4-Mar-2024", "5-Mar-2024", "6-Mar-2024"]
        assert item["count"] == 4
        if tz == "UTC":
            assert item["data"] == [0, 100.0, 0, 0]
        else:  # 10:00 UTC is 02:00 (PST) on the same day
            assert item["data"] == [0, 100.0, 0, 0]

    async def test_trends_with_breakdown_and_steps_range(self, db: Harness) -> None:
        day = 60 * 24
        events = []
        for i, (browser, entered, converted) in enumerate(
            [("Chrome", 0, True), ("Chrome", 0, False), ("Safari", day, True)]
        ):
            person = uuid.uuid4()
            events += [
                ev(person, "view", entered + i, browser=browser),
                ev(person, "signup", entered + i + 1),
            ]
            if converted:
                events.append(ev(person, "buy", entered + i + 2))
        await db.seed(events)
        query = funnel(
            "view",
            "signup",
            "buy",
            funnelVizType="trends",
            breakdownFilter={"breakdown": "browser"},
            dateRange={"date_from": "2024-03-04", "date_to": "2024-03-05"},
        )
        body = await db.run(query)
        assert [(item["breakdown_value"], item["data"]) for item in body["results"]] == [
            ("Chrome", [50.0, 0]),
            ("Safari", [0, 100.0]),
        ]
        query["funnelsFilter"]["funnelToStep"] = 1  # view → signup: everyone
        body = await db.run(query)
        assert [item["data"] for item in body["results"]] == [[100.0, 0], [0, 100.0]]


def random_events(seed: int, actors: int, weights: dict[str, int], count: int) -> list[EventRow]:
    """`count` events of `actors` actors, names drawn by weight, at whole minutes over a few days
    (so that same-instant events happen)."""
    rng = random.Random(seed)
    persons = [uuid.uuid4() for _ in range(actors)]
    return [
        EventRow(
            event=rng.choices(list(weights), list(weights.values()))[0],
            timestamp=DAY0 + timedelta(minutes=rng.randrange(0, 60 * 24 * 3, 7)),
            person=rng.choice(persons),
        )
        for _ in range(count)
    ]


class TestAgainstOracle:
    @pytest.mark.parametrize(
        ("order", "window_hours", "exclude", "seed"),
        [
            ("ordered", 24, False, 1),
            ("ordered", 3, False, 7),  # distinct steps, short window: many dominated entries
            ("ordered", 8, True, 2),
            ("strict", 24, False, 3),
            ("strict", 6, True, 4),
            ("unordered", 12, False, 5),
            ("unordered", 48, True, 6),
        ],
    )
    async def test_random_events(
        self, db: Harness, order: str, window_hours: int, exclude: bool, seed: int
    ) -> None:
        events = random_events(
            seed, 25, {"view": 35, "signup": 25, "buy": 20, "logout": 10, "scroll": 10}, 900
        )
        await db.seed(events)
        steps = (
            ["view", "signup", "view", "buy"]
            if order == "ordered" and seed == 1
            else ["view", "signup", "buy"]
        )
        exclusions = (
            [("logout", 1, 2)] if exclude and order != "unordered" else [("logout", 0, len(steps) - 1)]
        )
        exclusions = exclusions if exclude else []
        query = funnel(
            *steps,
            funnelOrderType=order,
            funnelWindowInterval=window_hours,
            funnelWindowIntervalUnit="hour",
            exclusions=[
                {"kind": "EventsNode", "event": e, "funnelFromStep": a, "funnelToStep": b}
                for e, a, b in exclusions
            ],
        )
        spec = oracle.Funnel(
            steps=[oracle.event_is(s) for s in steps],
            window=timedelta(hours=window_hours),
            order=order,
            exclusions=[(oracle.event_is(e), a, b) for e, a, b in exclusions],
        )
        expected = oracle.stats(spec, oracle.runs(spec, events))
        body = await db.run(query)
        assert counts(body) == expected.counts
        assert expected.counts[-1] > 0  # the data exercises the whole funnel
        for k, step in enumerate(body["results"]):
            assert step["average_conversion_time"] == pytest.approx(expected.averages[k])
            assert step["median_conversion_time"] == pytest.approx(expected.medians[k])

    @pytest.mark.parametrize("order", ["ordered", "strict", "unordered"])
    async def test_sparse_actors(self, db: Harness, order: str) -> None:
        """Most actors never get past step 0 (the walk leaves them out and counts them apart, see
        `funnel_rows.walks_only_converting`); some have later steps but no step 0."""
        events = random_events(33, 150, {"view": 60, "signup": 10, "buy": 14, "scroll": 16}, 600)
        await db.seed(events)
        steps = ["view", "signup", "buy"]
        window = {"funnelWindowInterval": 24, "funnelWindowIntervalUnit": "hour", "funnelOrderType": order}
        spec = oracle.Funnel(
            steps=[oracle.event_is(s) for s in steps], window=timedelta(hours=24), order=order
        )
        found = oracle.runs(spec, events)
        expected = oracle.stats(spec, found)
        assert expected.counts[0] - expected.counts[1] > expected.counts[0] / 3  # many stop at step 0
        assert expected.counts[-1] > 0
        body = await db.run(funnel(*steps, **window))
        assert counts(body) == expected.counts
        for k, step in enumerate(body["results"]):
            assert step["average_conversion_time"] == pytest.approx(expected.averages[k])
            assert step["median_conversion_time"] == pytest.approx(expected.medians[k])
        converted = await db.run(funnel(*steps, **window, funnelVizType="time_to_convert"))
        conversions = [(r.times[-1] - r.times[0]).total_seconds() for r in found if r.depth == len(steps)]
        assert sum(persons for _, persons in converted["results"]["bins"]) == len(conversions)
        average = converted["results"]["average_conversion_time"]
        assert average == pytest.approx(sum(conversions) / len(conversions))

    @pytest.mark.parametrize(
        ("attribution", "step"),
        [("first_touch", None), ("last_touch", None), ("all_events", None), ("step", 1)],
    )
    async def test_random_breakdowns(self, db: Harness, attribution: str, step: int | None) -> None:
        rng = random.Random(11)
        persons = [uuid.uuid4() for _ in range(30)]
        events = [
            EventRow(
                event=rng.choice(["view", "signup", "buy", "other"]),
                timestamp=DAY0 + timedelta(minutes=rng.randrange(0, 60 * 24 * 3, 5)),
                person=rng.choice(persons),
                properties={"browser": rng.choice(["Chrome", "Safari", "Edge", "", None])},
            )
            for _ in range(500)
        ]
        await db.seed(events)
        filters: dict[str, Any] = {"breakdownAttributionType": attribution}
        if step is not None:
            filters["breakdownAttributionValue"] = step
        query = funnel(
            "view", "signup", "buy", breakdownFilter={"breakdown": "browser", "breakdown_limit": 3}, **filters
        )
        spec = oracle.Funnel(
            steps=[oracle.event_is(s) for s in ("view", "signup", "buy")],
            breakdown="browser",
            attribution=attribution,
            attribution_step=step or 0,
            breakdown_limit=3,
        )
        expected = oracle.by_value(spec, oracle.runs(spec, events))
        body = await db.run(query)
        got = [(steps[0]["breakdown_value"], [s["count"] for s in steps]) for steps in body["results"]]
        assert got == [(value, s.counts) for value, s in expected]
        for steps, (_, s) in zip(body["results"], expected, strict=True):
            assert [x["average_conversion_time"] for x in steps] == pytest.approx(s.averages)


class TestBadInput:
    @pytest.mark.parametrize(
        ("query", "attr"),
        [
            (funnel("view"), "series"),
            (funnel(*[f"e{i}" for i in range(21)]), "series"),
            (funnel("view", "buy", funnelWindowInterval=-1), "funnelsFilter__funnelWindowInterval"),
            (funnel("view", "buy", funnelWindowInterval=0), "funnelsFilter__funnelWindowInterval"),
            (
                funnel("view", "buy", funnelWindowIntervalUnit="year"),
                "funnelsFilter__funnelWindowIntervalUnit",
            ),
            (funnel("view", "buy", funnelOrderType="sideways"), "funnelsFilter__funnelOrderType"),
            (
                funnel(
                    "view",
                    "buy",
                    exclusions=[{"kind": "EventsNode", "event": "x", "funnelFromStep": 1, "funnelToStep": 1}],
                ),
                "funnelsFilter__exclusions__0__funnelToStep",
            ),
            (
                funnel(
                    "view",
                    "buy",
                    exclusions=[
                        {"kind": "EventsNode", "event": "buy", "funnelFromStep": 0, "funnelToStep": 1}
                    ],
                ),
                "funnelsFilter__exclusions__0",
            ),
            (
                funnel("view", "buy", breakdownAttributionType="step", breakdownAttributionValue=5),
                "funnelsFilter__breakdownAttributionValue",
            ),
            (
                funnel("view", "buy", funnelVizType="time_to_convert", funnelFromStep=1, funnelToStep=1),
                "funnelsFilter__funnelToStep",
            ),
            (
                {
                    "kind": "FunnelsQuery",
                    "series": [{"kind": "EventsNode", "event": "a"}, {"kind": "CohortNode"}],
                },
                "series__1",
            ),
        ],
    )
    async def test_400(self, db: Harness, query: dict[str, Any], attr: str) -> None:
        with pytest.raises(ValidationError) as caught:
            await db.run(query)
        assert caught.value.status_code == 400
        assert caught.value.attr == attr

    async def test_unknown_action_and_bad_regex(self, db: Harness) -> None:
        query = funnel("view", "buy")
        query["series"][1] = {"kind": "ActionsNode", "id": 999}
        with pytest.raises(ValidationError, match="does not exist"):
            await db.run(query)
        query = funnel("view", "buy")
        query["series"][0]["properties"] = [
            {"key": "url", "value": "(", "operator": "regex", "type": "event"}
        ]
        with pytest.raises(ValidationError) as caught:
            await db.run(query)
        assert caught.value.code == "invalid_regex"
