"""`/elements/stats/` and `/elements/values/` on clicks seeded through ingestion, against counts
computed here from the seeded events."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.services.element_stats import chain_hash
from tests.factories.identity import Team
from tests.factories.ingested import click, event, ingest

PREFIXES = ["/api/projects", "/api/environments"]
T0 = datetime(2024, 3, 10, 12, tzinfo=UTC)
RANGE = {"date_from": "2024-03-01", "date_to": "2024-03-20"}
SIGNUP = [
    {"tag_name": "button", "$el_text": "Sign up", "attr_class": ["btn", "primary"], "nth_child": 2,
     "nth_of_type": 1, "attr__data-attr": "signup", "attr__href": "/signup"},
    {"tag_name": "div", "attr_class": ["hero"], "nth_child": 1, "nth_of_type": 1},
]  # fmt: skip
PRICING = [
    {"tag_name": "a", "$el_text": "Pricing", "attr__href": "/pricing", "nth_child": 3, "nth_of_type": 2}
]
FOOTER = [{"tag_name": "span", "$el_text": "About us", "nth_child": 1, "nth_of_type": 1}, *PRICING]
CHAINS = {"signup": SIGNUP, "pricing": PRICING, "footer": FOOTER}


def _stats_url(prefix: str, team: Team, **params: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in {**RANGE, **params}.items())
    return f"{prefix}/{team.id}/elements/stats/?{query}"


def _seeded_clicks(seed: int) -> list[tuple[str, str, datetime, str]]:
    """(chain name, event type, timestamp, browser): a random mix, some outside the date range."""
    rng = random.Random(seed)
    rows = []
    for _ in range(120):
        name = rng.choice(list(CHAINS))
        kind = rng.choices(["$autocapture", "$rageclick", "$dead_click"], weights=[8, 2, 1])[0]
        when = T0 + timedelta(days=rng.randint(-15, 15), hours=rng.randint(0, 11))
        rows.append((name, kind, when, rng.choice(["Chrome", "Firefox"])))
    return rows


async def _seed(engine: AsyncEngine, team: Team, rows: list[tuple[str, str, datetime, str]]) -> None:
    raws = [click(kind, when, CHAINS[name], f"u{i % 7}", **{"$browser": browser})
            for i, (name, kind, when, browser) in enumerate(rows)]  # fmt: skip
    raws.append(event("$pageview", T0, "u1"))  # not a click: never counted
    await ingest(engine, team.id, raws, now=T0 + timedelta(days=30))


def _in_range(when: datetime) -> bool:
    return datetime(2024, 3, 1, tzinfo=UTC) <= when < datetime(2024, 3, 21, tzinfo=UTC)


def _expected(
    rows: list[tuple[str, str, datetime, str]], kinds: set[str], browser: str | None = None
) -> Counter:
    return Counter(
        (name, kind) for name, kind, when, b in rows
        if kind in kinds and _in_range(when) and (browser is None or b == browser)
    )  # fmt: skip


def _by_name(body: dict[str, Any]) -> Counter:
    """Response rows keyed by which seeded chain their elements are (by the clicked element's text)."""
    texts = {"Sign up": "signup", "Pricing": "pricing", "About us": "footer"}
    return Counter(
        {(texts[row["elements"][0]["text"]], row["type"]): row["count"] for row in body["results"]}
    )


@pytest.mark.parametrize("prefix", PREFIXES)
class TestStats:
    async def test_counts_per_chain_and_type_match_the_seeded_events(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, other_team: Team, prefix: str
    ) -> None:
        rows = _seeded_clicks(1)
        await _seed(engine, team, rows)
        await _seed(engine, other_team, _seeded_clicks(2))  # another project's clicks never count
        response = await client.get(_stats_url(prefix, team), headers=team.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        expected = _expected(rows, {"$autocapture", "$rageclick", "$dead_click"})
        assert _by_name(body) == expected
        counts = [row["count"] for row in body["results"]]
        assert counts == sorted(counts, reverse=True)
        assert (body["next"], body["previous"]) == (None, None)
        assert response.headers["cache-control"] == "public, max-age=30"

    async def test_rows_carry_parsed_elements_and_the_chain_hash(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, prefix: str
    ) -> None:
        await ingest(engine, team.id, [click("$autocapture", T0, SIGNUP)], now=T0)
        row = (await client.get(_stats_url(prefix, team), headers=team.headers)).json()["results"][0]
        assert (row["count"], row["type"]) == (1, "$autocapture")
        button, hero = row["elements"]
        assert button == {
            "text": "Sign up", "tag_name": "button", "attr_class": ["btn", "primary"], "href": "/signup",
            "attr_id": None, "nth_child": 2, "nth_of_type": 1, "order": 0,
            "attributes": {"attr__data-attr": "signup", "attr__href": "/signup"},
        }  # fmt: skip
        assert (hero["tag_name"], hero["attr_class"], hero["order"], hero["text"]) == (
            "div",
            ["hero"],
            1,
            None,
        )
        chain = 'button.btn.primary:attr__data-attr="signup"attr__href="/signup"href="/signup"nth-child="2"nth-of-type="1"text="Sign up";div.hero:nth-child="1"nth-of-type="1"'  # noqa: E501
        assert row["hash"] == chain_hash(chain)
        assert re.fullmatch(r"[0-9a-f]{1,16}", row["hash"])
        assert chain_hash(chain) != chain_hash(chain.replace("Sign up", "Sign in"))

    async def test_include_filters_event_types(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, prefix: str
    ) -> None:
        rows = _seeded_clicks(3)
        await _seed(engine, team, rows)
        for include, kinds in (
            ("include=$rageclick", {"$rageclick"}),
            ("include=$rageclick&include=$dead_click", {"$rageclick", "$dead_click"}),
            ('include=["$autocapture","$dead_click"]', {"$autocapture", "$dead_click"}),
            ("include=$autocapture, $rageclick", {"$autocapture", "$rageclick"}),
        ):
            url = _stats_url(prefix, team) + "&" + include
            assert _by_name((await client.get(url, headers=team.headers)).json()) == _expected(rows, kinds)
        bad = await client.get(_stats_url(prefix, team) + "&include=$pageview", headers=team.headers)
        assert bad.status_code == 400
        assert bad.json()["detail"] == "Only $autocapture, $rageclick, and $dead_click are supported."

    async def test_property_filters_apply_to_the_events(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, prefix: str
    ) -> None:
        rows = _seeded_clicks(4)
        await _seed(engine, team, rows)
        properties = '[{"key":"$browser","value":"Firefox","operator":"exact","type":"event"}]'
        response = await client.get(_stats_url(prefix, team, properties=properties), headers=team.headers)
        assert _by_name(response.json()) == _expected(
            rows, {"$autocapture", "$rageclick", "$dead_click"}, "Firefox"
        )

    async def test_paging_walks_every_row_once(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, prefix: str
    ) -> None:
        rows = _seeded_clicks(5)
        await _seed(engine, team, rows)
        expected = _expected(rows, {"$autocapture", "$rageclick", "$dead_click"})
        seen: Counter = Counter()
        url: str | None = _stats_url(prefix, team, limit=2)
        pages = 0
        while url:
            body = (await client.get(url, headers=team.headers)).json()
            assert len(body["results"]) <= 2
            seen.update(_by_name(body))
            pages += 1
            url = body["next"]
            if url:
                assert parse_qs(urlsplit(url).query)["offset"] == [str(pages * 2)]
        assert seen == expected
        assert pages == (len(expected) + 1) // 2

    async def test_date_from_starts_at_the_start_of_its_day(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, prefix: str
    ) -> None:
        early = datetime(2024, 3, 10, 3, 21, tzinfo=UTC)
        await ingest(engine, team.id, [click("$autocapture", early, PRICING)], now=T0)
        url = f"{prefix}/{team.id}/elements/stats/?date_from=2024-03-10T08:21:00Z&date_to=2024-03-11"
        assert [r["count"] for r in (await client.get(url, headers=team.headers)).json()["results"]] == [1]
        later = f"{prefix}/{team.id}/elements/stats/?date_from=2024-03-11&date_to=2024-03-12"
        assert (await client.get(later, headers=team.headers)).json()["results"] == []

    async def test_default_range_is_the_last_seven_days(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, prefix: str
    ) -> None:
        now = datetime.now(UTC)
        raws = [click("$autocapture", now - timedelta(days=2), PRICING),
                click("$autocapture", now - timedelta(days=12), PRICING)]  # fmt: skip
        await ingest(engine, team.id, raws, now=now)
        body = (await client.get(f"{prefix}/{team.id}/elements/stats/", headers=team.headers)).json()
        assert [row["count"] for row in body["results"]] == [1]

    async def test_data_attributes_and_depth_shape_the_elements(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, prefix: str
    ) -> None:
        await ingest(engine, team.id, [click("$autocapture", T0, SIGNUP)], now=T0)
        url = _stats_url(prefix, team, data_attributes="data-*", max_element_chain_depth=1)
        (row,) = (await client.get(url, headers=team.headers)).json()["results"]
        assert len(row["elements"]) == 1
        assert row["elements"][0]["attributes"] == {"attr__data-attr": "signup"}

    @pytest.mark.parametrize(
        ("params", "detail"),
        [
            ("limit=abc", "limit must be an integer"),
            ("limit=0", "limit must be between 1 and 99999"),
            ("offset=x", "offset must be an integer"),
            ("offset=-1", "offset must be zero or greater"),
            ("sampling_factor=2", "sampling_factor must be greater than 0 and at most 1"),
            ("max_element_chain_depth=0", "max_element_chain_depth must be greater than zero"),
            ("date_from=yesterdayish", "Invalid date: 'yesterdayish'."),
            ("properties=[{", "Properties must be valid JSON."),
        ],
    )
    async def test_bad_parameters_are_400(
        self, client: httpx.AsyncClient, team: Team, prefix: str, params: str, detail: str
    ) -> None:
        response = await client.get(f"{prefix}/{team.id}/elements/stats/?{params}", headers=team.headers)
        assert response.status_code == 400
        assert response.json()["detail"] == detail


@pytest.mark.parametrize("prefix", PREFIXES)
class TestValues:
    async def test_values_of_each_key_most_frequent_first(
        self, client: httpx.AsyncClient, engine: AsyncEngine, team: Team, other_team: Team, prefix: str
    ) -> None:
        raws = [click("$autocapture", T0, SIGNUP)] * 3 + [click("$autocapture", T0, PRICING)] * 2
        raws += [click("$rageclick", T0, FOOTER)]  # only $autocapture is looked at
        await ingest(engine, team.id, [dict(r) for r in raws], now=T0)
        await ingest(engine, other_team.id, [click("$autocapture", T0, [{"tag_name": "bla"}])], now=T0)
        base = f"{prefix}/{team.id}/elements/values/"

        async def names(query: str) -> list[Any]:
            response = await client.get(base + query, headers=team.headers)
            assert response.status_code == 200, response.text
            return [row["name"] for row in response.json()]

        assert await names("?key=tag_name") == ["button", "a"]
        assert await names("?key=text") == ["Sign up", "Pricing"]
        assert await names("?key=text&value=Pri") == ["Pricing"]
        assert await names("?key=text&value=pri") == []  # case-sensitive
        assert await names("?key=href&value=/") == ["/signup", "/pricing"]
        assert await names("?key=selector") == []
        bad = await client.get(base + "?key=nope", headers=team.headers)
        assert bad.status_code == 400
        assert bad.json()["detail"] == "key must be one of attr_id, href, tag_name, text"
