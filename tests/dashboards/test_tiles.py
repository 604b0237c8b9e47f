"""Tiles: edits through PATCH, layout order, move_tile, reorder_tiles, dashboard filters on tile results."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.models.base import utcnow
from app.services.dashboard_tiles import pack
from tests.factories.events import EventRow, insert_events
from tests.factories.identity import Team
from tests.factories.insights import add_member, create_insight, new_dashboard, trends

PREFIXES = ["/api/projects", "/api/environments"]


def sm(x: int, y: int, w: int = 6, h: int = 5) -> dict[str, Any]:
    return {"sm": {"x": x, "y": y, "w": w, "h": h}}


async def tile_ids(
    client: httpx.AsyncClient, team: Team, prefix: str, board: dict[str, Any], size: str = "sm"
) -> list[int]:
    body = (
        await client.get(
            f"{prefix}/{team.id}/dashboards/{board['id']}/?layoutSize={size}", headers=team.headers
        )
    ).json()
    return [t["id"] for t in body["tiles"]]


@pytest.mark.parametrize("prefix", PREFIXES)
class TestTileEdits:
    async def test_text_tiles_and_layout_edits(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        board = await new_dashboard(client, team, prefix)
        url = f"{prefix}/{team.id}/dashboards/{board['id']}/"
        added = (
            await client.patch(
                url,
                json={"tiles": [{"text": {"body": "# Hello"}, "layouts": sm(0, 0)}]},
                headers=team.headers,
            )
        ).json()
        (tile,) = added["tiles"]
        assert (tile["text"]["body"], tile["insight"], tile["layouts"]) == ("# Hello", None, sm(0, 0))
        edited = (
            await client.patch(
                url,
                json={
                    "tiles": [{"id": tile["id"], "color": "blue", "text": {"body": "Bye"}, "is_cached": True}]
                },
                headers=team.headers,
            )
        ).json()
        assert (edited["tiles"][0]["color"], edited["tiles"][0]["text"]["body"]) == ("blue", "Bye")
        removed = (
            await client.patch(
                url, json={"tiles": [{"id": tile["id"], "deleted": True}]}, headers=team.headers
            )
        ).json()
        assert removed["tiles"] == []

    async def test_bad_tile_edits_are_400(
        self, client: httpx.AsyncClient, team: Team, other_team: Team, prefix: str
    ) -> None:
        board = await new_dashboard(client, team, prefix)
        theirs = await new_dashboard(client, other_team, prefix)
        await client.patch(
            f"{prefix}/{other_team.id}/dashboards/{theirs['id']}/", json={"tiles": [{"text": {"body": "x"}}]},
            headers=other_team.headers,
        )  # fmt: skip
        their_tile = (
            await client.get(
                f"{prefix}/{other_team.id}/dashboards/{theirs['id']}/", headers=other_team.headers
            )
        ).json()["tiles"][0]
        url = f"{prefix}/{team.id}/dashboards/{board['id']}/"
        for edit, attr in (
            ({"id": their_tile["id"], "color": "red"}, "tiles__0__id"),
            ({"color": "red"}, "tiles__0__text"),
            ({"text": {"body": "x" * 4001}}, "tiles__0__text__body"),
        ):
            response = await client.patch(url, json={"tiles": [edit]}, headers=team.headers)
            assert (response.status_code, response.json()["attr"]) == (400, attr), edit

    async def test_order_follows_the_layout_size(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        board = await new_dashboard(client, team, prefix)
        url = f"{prefix}/{team.id}/dashboards/{board['id']}/"
        tiles = [
            {"text": {"body": "bottom-left"}, "layouts": {"sm": {"x": 0, "y": 5}, "xs": {"x": 0, "y": 0}}},
            {"text": {"body": "top-right"}, "layouts": {"sm": {"x": 6, "y": 0}, "xs": {"x": 0, "y": 10}}},
            {"text": {"body": "unplaced"}, "layouts": {}},
            {"text": {"body": "top-left"}, "layouts": {"sm": {"x": 0, "y": 0}, "xs": {"x": 0, "y": 5}}},
        ]
        await client.patch(url, json={"tiles": tiles}, headers=team.headers)
        by_sm = (await client.get(url, headers=team.headers)).json()["tiles"]
        assert [t["text"]["body"] for t in by_sm] == ["top-left", "top-right", "bottom-left", "unplaced"]
        assert [t["order"] for t in by_sm] == [0, 1, 2, 3]
        by_xs = (await client.get(url + "?layoutSize=xs", headers=team.headers)).json()["tiles"]
        assert [t["text"]["body"] for t in by_xs] == ["bottom-left", "top-left", "top-right", "unplaced"]
        fallback = (await client.get(url + "?layoutSize=xl", headers=team.headers)).json()["tiles"]
        assert [t["id"] for t in fallback] == [t["id"] for t in by_sm]

    async def test_tiles_of_deleted_insights_are_hidden(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        board = await new_dashboard(client, team, prefix)
        kept = await create_insight(client, team, prefix, dashboards=[board["id"]])
        gone = await create_insight(client, team, prefix, dashboards=[board["id"]])
        await client.patch(
            f"{prefix}/{team.id}/insights/{gone['id']}/", json={"deleted": True}, headers=team.headers
        )
        body = (
            await client.get(f"{prefix}/{team.id}/dashboards/{board['id']}/", headers=team.headers)
        ).json()
        assert [t["insight"]["id"] for t in body["tiles"]] == [kept["id"]]


@pytest.mark.parametrize("prefix", PREFIXES)
class TestMoveTile:
    @pytest.mark.parametrize("key", ["to_dashboard", "toDashboard"])
    async def test_move_returns_the_source(
        self, client: httpx.AsyncClient, team: Team, prefix: str, key: str
    ) -> None:
        source, target = await new_dashboard(client, team, prefix), await new_dashboard(client, team, prefix)
        insight = await create_insight(client, team, prefix, dashboards=[source["id"]])
        tile_id = insight["dashboard_tiles"][0]["id"]
        response = await client.patch(
            f"{prefix}/{team.id}/dashboards/{source['id']}/move_tile/",
            json={"tile": {"id": tile_id}, key: target["id"]},
            headers=team.headers,
        )
        assert response.status_code == 200
        assert (response.json()["id"], response.json()["tiles"]) == (source["id"], [])
        moved = (
            await client.get(f"{prefix}/{team.id}/dashboards/{target['id']}/", headers=team.headers)
        ).json()
        assert [t["id"] for t in moved["tiles"]] == [tile_id]  # the same tile row, moved

    async def test_move_errors(
        self,
        client: httpx.AsyncClient,
        team: Team,
        other_team: Team,
        sessionmaker: async_sessionmaker[AsyncSession],
        prefix: str,
    ) -> None:
        source, target = await new_dashboard(client, team, prefix), await new_dashboard(client, team, prefix)
        theirs = await new_dashboard(client, other_team, prefix)
        insight = await create_insight(client, team, prefix, dashboards=[source["id"], target["id"]])
        tile = next(t["id"] for t in insight["dashboard_tiles"] if t["dashboard_id"] == source["id"])
        url = f"{prefix}/{team.id}/dashboards/{source['id']}/move_tile/"

        async def move(body: dict[str, Any], headers: dict[str, str] = team.headers) -> httpx.Response:
            return await client.patch(url, json=body, headers=headers)

        assert (await move({"tile": {"id": 999999}, "to_dashboard": target["id"]})).status_code == 404
        assert (await move({"tile": {"id": tile}, "to_dashboard": theirs["id"]})).status_code == 404
        already = await move({"tile": {"id": tile}, "to_dashboard": target["id"]})
        assert (already.status_code, already.json()["detail"]) == (
            400,
            "This insight is already on the destination dashboard.",
        )
        same = await move({"tile": {"id": tile}, "to_dashboard": source["id"]})
        assert same.status_code == 400
        assert (await move({"tile": {"id": tile}})).status_code == 400
        locked = await new_dashboard(client, team, prefix, restriction_level=37)
        colleague, _ = await add_member(sessionmaker, team)
        denied = await move({"tile": {"id": tile}, "to_dashboard": locked["id"]}, colleague.headers)
        assert (denied.status_code, denied.json()["detail"]) == (
            403, "You don't have edit permissions for the destination dashboard.",
        )  # fmt: skip


def test_packing_puts_each_tile_at_the_lowest_free_spot() -> None:
    # widths/heights: a 12-wide banner, two halves side by side, a third-width under the first half
    assert pack([(12, 2), (6, 5), (6, 3), (4, 4)]) == [(0, 0), (0, 2), (6, 2), (6, 5)]


@pytest.mark.parametrize("prefix", PREFIXES)
class TestReorder:
    async def test_two_column_and_preserve(self, client: httpx.AsyncClient, team: Team, prefix: str) -> None:
        board = await new_dashboard(client, team, prefix)
        url = f"{prefix}/{team.id}/dashboards/{board['id']}/"
        texts = [{"text": {"body": str(n)}, "layouts": sm(0, n * 5, 12, 2)} for n in range(3)]
        await client.patch(url, json={"tiles": texts}, headers=team.headers)
        a, b, c = await tile_ids(client, team, prefix, board)
        two = await client.post(
            url + "reorder_tiles/", json={"tile_order": [c, a], "layout": "two_column"}, headers=team.headers
        )
        assert two.status_code == 200
        layouts = {t["id"]: t["layouts"]["sm"] for t in two.json()["tiles"]}
        assert layouts[c] == {"x": 0, "y": 0, "w": 6, "h": 5}
        assert layouts[a] == {"x": 6, "y": 0, "w": 6, "h": 5}
        assert layouts[b] == {"x": 0, "y": 5, "w": 6, "h": 5}  # not listed: after the listed ones
        assert [t["id"] for t in two.json()["tiles"]] == [c, a, b]
        kept = await client.post(url + "reorder_tiles/", json={"tile_order": [b, c, a]}, headers=team.headers)
        sizes = {t["id"]: t["layouts"]["sm"] for t in kept.json()["tiles"]}
        # preserve keeps each 6 by 5 size and packs in order: b left, c right, a below
        assert [(sizes[i]["x"], sizes[i]["y"]) for i in (b, c, a)] == [(0, 0), (6, 0), (0, 5)]

    async def test_errors(self, client: httpx.AsyncClient, team: Team, other_team: Team, prefix: str) -> None:
        board = await new_dashboard(client, team, prefix)
        url = f"{prefix}/{team.id}/dashboards/{board['id']}/reorder_tiles/"
        await client.patch(
            f"{prefix}/{team.id}/dashboards/{board['id']}/",
            json={"tiles": [{"text": {"body": "x"}}]},
            headers=team.headers,
        )
        (tile,) = await tile_ids(client, team, prefix, board)
        duplicate = await client.post(url, json={"tile_order": [tile, tile]}, headers=team.headers)
        assert (duplicate.status_code, duplicate.json()["detail"]) == (
            400,
            "tile_order must contain unique tile IDs",
        )
        foreign = await client.post(url, json={"tile_order": [tile, 987654]}, headers=team.headers)
        assert (foreign.status_code, foreign.json()["detail"]) == (
            404,
            "Tile IDs not found on this dashboard: [987654]",
        )
        assert (await client.post(url, json={"tile_order": []}, headers=team.headers)).status_code == 400


@pytest.fixture
async def browsers(engine: AsyncEngine, team: Team) -> list[EventRow]:
    now = utcnow()
    rows = [
        EventRow("$pageview", now - timedelta(days=i % 3, minutes=20), None, {"$browser": b}, distinct_id="u")
        for i, b in enumerate(["Chrome", "Chrome", "Safari", "Firefox", "Chrome"])
    ]
    rows.append(
        EventRow("$pageview", now - timedelta(days=20), None, {"$browser": "Chrome"}, distinct_id="u")
    )
    await insert_events(engine, team.id, rows)
    return rows


async def test_dashboard_filters_apply_to_every_tile(
    client: httpx.AsyncClient, team: Team, browsers: list[EventRow]
) -> None:
    board = await new_dashboard(
        client,
        team,
        filters={
            "properties": [{"key": "$browser", "value": "Chrome", "type": "event", "operator": "exact"}]
        },
    )
    await create_insight(client, team, dashboards=[board["id"]])
    await create_insight(
        client, team, query=trends(dateRange={"date_from": "-30d"}), dashboards=[board["id"]]
    )
    url = f"/api/projects/{team.id}/dashboards/{board['id']}/"
    body = (await client.get(url + "?refresh=blocking", headers=team.headers)).json()
    recent_chrome = sum(
        1
        for r in browsers
        if r.properties["$browser"] == "Chrome" and r.timestamp > utcnow() - timedelta(days=7)
    )
    all_chrome = sum(1 for r in browsers if r.properties["$browser"] == "Chrome")
    assert sorted(t["insight"]["result"][0]["count"] for t in body["tiles"]) == [recent_chrome, all_chrome]
    assert body["last_refresh"] is not None
    wide = (
        await client.get(
            url + '?refresh=blocking&filters_override={"date_from":"-90d"}', headers=team.headers
        )
    ).json()
    assert [t["insight"]["result"][0]["count"] for t in wide["tiles"]] == [all_chrome, all_chrome]
    # PATCHing filters: the response's tiles show no result until computed under the new filters.
    patched = await client.patch(url, json={"filters": {"date_from": "-1d"}}, headers=team.headers)
    assert [t["insight"]["result"] for t in patched.json()["tiles"]] == [None, None]
