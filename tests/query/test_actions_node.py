"""ActionsNode series: actions created through the API, queried through `/query`, against a plain-Python
evaluation of the same steps over the same events."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.elements_chain import Element, elements_to_chain
from app.models.base import utcnow
from tests.factories.events import EventRow, PersonRow, insert_events, insert_persons, new_person
from tests.factories.identity import Team
from tests.query.dataset import day_buckets, per_day
from tests.query.oracles import Window, local, stickiness

ELEMENTS: list[list[Element]] = [
    [
        Element(tag_name="button", attr_class=["cta", "big"], text="Buy now", href="/buy"),
        Element(tag_name="div"),
    ],
    [Element(tag_name="a", text="Pricing", href="/pricing"), Element(tag_name="nav")],
    [Element(tag_name="div", attr_class=["cta"], text="Buy now")],
    [],
]
URLS = ["https://shop.com/pricing", "https://shop.com/Pricing?x=1", "https://shop.com/about", None]


class Row:
    """An event with the parsed elements the oracle reads (the engine reads the chain string)."""

    def __init__(self, event: EventRow, elements: list[Element], plan: str) -> None:
        self.event, self.elements, self.plan = event, elements, plan

    @property
    def url(self) -> str | None:
        return self.event.properties.get("$current_url")


def build(people: list[PersonRow], plans: dict[Any, str], now: Any) -> list[Row]:
    rng = random.Random(11)
    rows = []
    for _ in range(300):
        person = rng.choice(people)
        elements = rng.choice(ELEMENTS)
        properties: dict[str, Any] = {"$browser": rng.choice(["Chrome", "Firefox"])}
        if (url := rng.choice(URLS)) is not None:
            properties["$current_url"] = url
        event = EventRow(
            rng.choice(["$pageview", "$autocapture", "signup"]),
            now - timedelta(seconds=rng.randrange(9 * 86400)),
            person.uuid,
            properties,
            elements_chain=elements_to_chain(elements),
        )
        rows.append(Row(event, elements, plans[person.uuid]))
    return rows


Step = Callable[[Row], bool]


def any_element(predicate: Callable[[Element], bool]) -> Step:
    return lambda row: any(predicate(e) for e in row.elements)


ACTIONS: list[tuple[str, list[dict[str, Any]], list[Step]]] = [
    (
        "Pricing views",
        [{"event": "$pageview", "url": "/pricing", "url_matching": "contains"}],
        [lambda r: r.event.event == "$pageview" and "/pricing" in (r.url or "")],
    ),
    (
        "Buy clicks or pro signups",
        [
            {"event": "$autocapture", "text": "Buy now", "text_matching": "exact"},
            {"event": "signup", "properties": [{"key": "plan", "value": "pro", "type": "person"}]},
        ],
        [
            lambda r: r.event.event == "$autocapture" and any_element(lambda e: e.text == "Buy now")(r),
            lambda r: r.event.event == "signup" and r.plan == "pro",
        ],
    ),
    (
        "About or pricing, any event",
        [{"url": r"^https://shop\.com/(about|pricing)$", "url_matching": "regex"}],
        [lambda r: re.search(r"^https://shop\.com/(about|pricing)$", r.url or "\n") is not None],
    ),
    (
        "CTA buttons or pricing links",
        [
            {"event": "$autocapture", "selector": "button.cta"},
            {"event": "$autocapture", "tag_name": "a", "href": "/PRIC", "href_matching": "contains"},
        ],
        [
            lambda r: (
                r.event.event == "$autocapture"
                and any_element(lambda e: e.tag_name == "button" and "cta" in (e.attr_class or []))(r)
            ),
            lambda r: (
                r.event.event == "$autocapture"
                and any_element(lambda e: e.tag_name == "a")(r)
                and any_element(lambda e: "/pric" in (e.href or "").lower())(r)
            ),
        ],
    ),
    (
        "Chrome on about",
        [
            {
                "event": "$pageview",
                "url": "https://shop.com/about",
                "url_matching": "exact",
                "properties": [{"key": "$browser", "value": "Chrome", "operator": "exact", "type": "event"}],
            }
        ],
        [
            lambda r: (
                r.event.event == "$pageview"
                and r.url == "https://shop.com/about"
                and r.event.properties["$browser"] == "Chrome"
            )
        ],
    ),
]


@pytest.fixture
async def rows(engine: AsyncEngine, team: Team) -> list[Row]:
    people = [new_person({"plan": plan}) for plan in ["free", "pro", "pro", "free", "pro"]]
    await insert_persons(engine, team.id, people)
    built = build(people, {p.uuid: p.properties["plan"] for p in people}, utcnow())
    await insert_events(engine, team.id, [r.event for r in built])
    return built


async def create_action(client: httpx.AsyncClient, team: Team, name: str, steps: list[dict[str, Any]]) -> int:
    response = await client.post(
        f"/api/projects/{team.id}/actions/", headers=team.headers, json={"name": name, "steps": steps}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def query(client: httpx.AsyncClient, team: Team, payload: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/api/projects/{team.id}/query/", headers=team.headers, json={"query": payload})


def matching(rows: list[Row], steps: list[Step]) -> list[EventRow]:
    return [r.event for r in rows if any(step(r) for step in steps)]


class TestActionsNode:
    @pytest.mark.parametrize(("name", "steps", "oracle"), ACTIONS, ids=[a[0] for a in ACTIONS])
    async def test_trend_counts_events_matching_any_step(
        self,
        client: httpx.AsyncClient,
        team: Team,
        rows: list[Row],
        name: str,
        steps: list[dict[str, Any]],
        oracle: list[Step],
    ) -> None:
        action_id = await create_action(client, team, name, steps)
        response = await query(
            client, team, {"kind": "TrendsQuery", "series": [{"kind": "ActionsNode", "id": action_id}]}
        )
        assert response.status_code == 200, response.text
        [item] = response.json()["results"]
        expected = per_day(matching(rows, oracle), "UTC", day_buckets(utcnow(), "UTC", 7))
        assert sum(expected) > 0  # the case is not vacuous
        assert item["data"] == expected
        assert item["label"] == name
        assert item["action"]["id"] == action_id
        assert item["action"]["type"] == "actions"

    async def test_stickiness_over_an_action(
        self, client: httpx.AsyncClient, team: Team, rows: list[Row]
    ) -> None:
        name, steps, oracle = ACTIONS[1]
        action_id = await create_action(client, team, name, steps)
        payload = {
            "kind": "StickinessQuery",
            "series": [{"kind": "ActionsNode", "id": action_id, "custom_name": "X"}],
        }
        response = await query(client, team, payload)
        now = local(utcnow(), "UTC")
        start = (now - timedelta(days=7)).replace(hour=0, minute=0, second=0, microsecond=0)
        window = Window("UTC", "day", start, now.replace(hour=23, minute=59, second=59, microsecond=999999))
        expected, _ = stickiness(matching(rows, oracle), window)
        assert response.json()["results"][0]["data"] == expected
        assert response.json()["results"][0]["label"] == "X"

    async def test_deleted_or_foreign_actions_are_400s(
        self, client: httpx.AsyncClient, team: Team, other_team: Team
    ) -> None:
        mine = await create_action(client, team, "Mine", [{"event": "e"}])
        theirs = await create_action(client, other_team, "Theirs", [{"event": "e"}])
        await client.patch(
            f"/api/projects/{team.id}/actions/{mine}/", headers=team.headers, json={"deleted": True}
        )
        for action_id in (mine, theirs, 2_000_000):
            response = await query(
                client, team, {"kind": "TrendsQuery", "series": [{"kind": "ActionsNode", "id": action_id}]}
            )
            assert response.status_code == 400, response.text
            assert response.json()["attr"] == "series__0__id"
            assert response.json()["detail"] == f"Action {action_id} does not exist."
