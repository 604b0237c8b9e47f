"""PathsQuery results: hand-written cases and random sessions against the Python oracle."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import ValidationError
from app.query import execute
from app.query.api import TeamContext
from tests.factories.events import EventRow, insert_events
from tests.factories.identity import Team
from tests.query import paths_oracle as oracle
from tests.query.conftest import RunQuery

NOW = datetime(2024, 3, 14, 15, 30, tzinfo=UTC)
T0 = datetime(2024, 3, 12, 9, 0, tzinfo=UTC)


def paths(**paths_filter: Any) -> dict[str, Any]:
    return {"kind": "PathsQuery", "pathsFilter": paths_filter}


def view(person: uuid.UUID, url: str, minute: float, **props: Any) -> EventRow:
    return EventRow("$pageview", T0 + timedelta(minutes=minute), person, {"$current_url": url, **props})


def edges(body: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(e["source"], e["target"], e["value"]) for e in body["results"]]


class Harness:
    def __init__(self, engine: AsyncEngine, team: Team, run_query: RunQuery) -> None:
        self.engine, self.team, self.run_query = engine, team, run_query

    async def seed(self, events: list[EventRow]) -> None:
        await insert_events(self.engine, self.team.id, events)

    async def run(self, query: dict[str, Any]) -> dict[str, Any]:
        return await self.run_query(query, TeamContext(id=self.team.id), NOW)


@pytest.fixture
def db(engine: AsyncEngine, team: Team, run_query: RunQuery) -> Harness:
    return Harness(engine, team, run_query)


class TestPaths:
    async def test_pageview_edges_with_counts_and_times(self, db: Harness) -> None:
        a, b, c = (uuid.uuid4() for _ in range(3))
        await db.seed(
            [
                view(a, "https://x.com/", 0), view(a, "https://x.com/pricing/", 1),
                view(a, "https://x.com/signup", 3),
                view(b, "https://x.com", 0), view(b, "https://x.com/pricing", 2),
                view(c, "https://x.com/", 0), view(c, "https://x.com/blog", 5),
            ]
        )  # fmt: skip
        body = await db.run(paths(includeEventTypes=["$pageview"]))
        assert body["results"] == [
            {
                "source": "1_https://x.com",
                "target": "2_https://x.com/pricing",
                "value": 2,
                "average_conversion_time": pytest.approx(90_000),
            },
            {
                "source": "1_https://x.com",
                "target": "2_https://x.com/blog",
                "value": 1,
                "average_conversion_time": pytest.approx(300_000),
            },
            {
                "source": "2_https://x.com/pricing",
                "target": "3_https://x.com/signup",
                "value": 1,
                "average_conversion_time": pytest.approx(120_000),
            },
        ]

    async def test_item_kinds_sessions_and_repeats(self, db: Harness) -> None:
        a = uuid.uuid4()
        await db.seed(
            [
                EventRow("$screen", T0, a, {"$screen_name": "Home"}),
                EventRow(
                    "$pageview", T0 + timedelta(minutes=1), a, {"$pathname": "/docs/"}
                ),  # no $current_url
                EventRow("$pageview", T0 + timedelta(minutes=2), a, {"$pathname": "/docs"}),  # a repeat
                EventRow("clicked", T0 + timedelta(minutes=3), a),
                EventRow("$autocapture", T0 + timedelta(minutes=4), a),  # not a custom event
                EventRow("clicked", T0 + timedelta(minutes=40), a),  # a new session
                EventRow("bought", T0 + timedelta(minutes=41), a),
            ]
        )
        body = await db.run(paths(includeEventTypes=["$pageview", "$screen", "custom_event"]))
        assert sorted(edges(body)) == [
            ("1_Home", "2_/docs", 1),
            ("1_clicked", "2_bought", 1),
            ("2_/docs", "3_clicked", 1),
        ]
        every = await db.run(paths())
        assert ("3_clicked", "4_$autocapture", 1) in edges(every)

    async def test_same_instant_items_go_in_byte_order(self, db: Harness) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        # Stored in opposite orders; "/B" sorts before "/a" in bytes (after it in most locales).
        await db.seed([view(a, "/a", 0), view(a, "/B", 0), view(b, "/B", 0), view(b, "/a", 0)])
        await db.seed([view(a, "/c", 1), view(b, "/c", 1)])
        body = await db.run(paths(includeEventTypes=["$pageview"]))
        assert sorted(edges(body)) == [("1_/B", "2_/a", 2), ("2_/a", "3_/c", 2)]

    async def test_start_point(self, db: Harness) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        urls = ["/a", "/b", "/c", "/d", "/e", "/f"]
        await db.seed([view(a, u, i) for i, u in enumerate(urls)] + [view(b, "/a", 0), view(b, "/x", 1)])
        body = await db.run(paths(startPoint="/c/", stepLimit=3))
        assert edges(body) == [("1_/c", "2_/d", 1), ("2_/d", "3_/e", 1)]

    async def test_end_point(self, db: Harness) -> None:
        a = uuid.uuid4()
        await db.seed([view(a, u, i) for i, u in enumerate(["/a", "/b", "/c", "/d", "/e"])])
        body = await db.run(paths(endPoint="/d", stepLimit=3))
        assert edges(body) == [("1_/b", "2_/c", 1), ("2_/c", "3_/d", 1)]

    async def test_start_and_end_points_with_ellipsis(self, db: Harness) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        await db.seed(
            [view(a, u, i) for i, u in enumerate(["/s", "/1", "/2", "/3", "/4", "/e", "/z"])]
            + [view(b, u, i) for i, u in enumerate(["/s", "/1", "/e"])]
        )
        body = await db.run(paths(startPoint="/s", endPoint="/e", stepLimit=4))
        assert sorted(edges(body)) == [
            ("1_/s", "2_/1", 2),
            ("2_/1", "3_...", 1),
            ("2_/1", "3_/e", 1),
            ("3_...", "4_/4", 1),
            ("4_/4", "5_/e", 1),
        ]

    async def test_groupings_cleaning_and_exclusions(self, db: Harness) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        await db.seed(
            [
                view(a, "/user/12/settings", 0), view(a, "/product/shoe", 1),
                view(a, "/admin", 2), view(a, "/cart", 3),
                view(b, "/user/7/settings", 0), view(b, "/product/hat", 1), view(b, "/cart", 2),
            ]
        )  # fmt: skip
        body = await db.run(
            paths(
                localPathCleaningFilters=[{"alias": "/user/:id", "regex": "/user/\\d+"}],
                pathGroupings=["/product/*"],
                excludeEvents=["/admin"],
            )
        )
        assert edges(body) == [
            ("1_/user/:id/settings", "2_/product/*", 2),
            ("2_/product/*", "3_/cart", 2),
        ]

    async def test_edge_weights_limit_and_reachability(self, db: Harness) -> None:
        events = []
        for i in range(3):
            person = uuid.uuid4()
            events += [view(person, "/a", 0), view(person, "/b", 1), view(person, f"/c{i % 2}", 2)]
        await db.seed(events)
        heavy = await db.run(paths(minEdgeWeight=2))
        assert edges(heavy) == [("1_/a", "2_/b", 3), ("2_/b", "3_/c0", 2)]
        light = await db.run(paths(maxEdgeWeight=2))
        assert edges(light) == []  # 2_/b isn't reachable without the heavy first edge
        assert edges(await db.run(paths(edgeLimit=1))) == [("1_/a", "2_/b", 3)]


class TestAgainstOracle:
    # Shares of the actors run side by side (`execute.fetch_side_by_side`): as many as the machine has
    # cores, so the counts are set here: one share, and three whose edges are added up.
    @pytest.mark.parametrize("shares", [1, 3])
    @pytest.mark.parametrize(
        "options",
        [
            {},
            {"stepLimit": 3, "excludeEvents": ["/x/3"]},
            {"startPoint": "/x/1", "stepLimit": 4},
            {"endPoint": "/x/2", "stepLimit": 3},
            {"startPoint": "/x/1", "endPoint": "/x/4", "stepLimit": 4, "edgeLimit": 20},
            {"pathGroupings": ["/x/1*"], "minEdgeWeight": 2},
        ],
    )
    async def test_random(
        self, db: Harness, options: dict[str, Any], shares: int, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(execute, "SHARES", shares)
        rng = random.Random(str(options))
        persons = [uuid.uuid4() for _ in range(30)]
        events = [
            EventRow(
                "$pageview",
                NOW - timedelta(days=3) + timedelta(minutes=rng.randrange(0, 60 * 24 * 3, 3)),
                rng.choice(persons),
                {"$current_url": rng.choice(["/x/1", "/x/2", "/x/3", "/x/4", "/x/1/", "/x/10"])},
            )
            for _ in range(800)
        ]
        await db.seed(events)
        spec = oracle.Paths(
            start=options.get("startPoint"),
            end=options.get("endPoint"),
            step_limit=options.get("stepLimit", 5),
            edge_limit=options.get("edgeLimit", 50),
            min_weight=options.get("minEdgeWeight"),
            exclude=options.get("excludeEvents", []),
            groupings=options.get("pathGroupings", []),
        )
        expected = oracle.edges(spec, events)
        body = await db.run(paths(**options))
        assert edges(body) == [(s, t, n) for s, t, n, _ in expected]
        assert [e["average_conversion_time"] for e in body["results"]] == pytest.approx(
            [ms for *_, ms in expected]
        )
        assert expected


class TestBadInput:
    @pytest.mark.parametrize(
        ("query", "attr"),
        [
            (paths(stepLimit=1), "pathsFilter__stepLimit"),
            (paths(stepLimit=21), "pathsFilter__stepLimit"),
            (paths(includeEventTypes=["hogql"]), "pathsFilter__includeEventTypes"),
            (paths(includeEventTypes=["$autocapture"]), "pathsFilter__includeEventTypes__0"),
            (paths(minEdgeWeight=-1), "pathsFilter__minEdgeWeight"),
            (paths(edgeLimit=0), "pathsFilter__edgeLimit"),
            (
                paths(localPathCleaningFilters=[{"alias": "x"}]),
                "pathsFilter__localPathCleaningFilters__0__regex",
            ),
            ({**paths(), "funnelPathsFilter": {"funnelStep": 1}}, "funnelPathsFilter"),
            ({"kind": "PathsQuery"}, "pathsFilter"),
        ],
    )
    async def test_400(self, db: Harness, query: dict[str, Any], attr: str) -> None:
        with pytest.raises(ValidationError) as caught:
            await db.run(query)
        assert caught.value.status_code == 400
        assert caught.value.attr == attr

    async def test_bad_cleaning_regex(self, db: Harness) -> None:
        with pytest.raises(ValidationError) as caught:
            await db.run(paths(localPathCleaningFilters=[{"alias": "x", "regex": "(unclosed"}]))
        assert caught.value.code == "invalid_regex"
