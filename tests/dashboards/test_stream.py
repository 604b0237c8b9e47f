"""stream_tiles on a real uvicorn: wire format, order, tile errors, disconnects, the cap, keepalives."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.models.base import utcnow
from app.settings import Settings
from tests.conftest import LiveServer
from tests.factories.events import EventRow, insert_events
from tests.factories.identity import Team
from tests.factories.insights import create_insight, new_dashboard, trends

REGEX_ERROR = trends(properties=[{"key": "$browser", "value": "(", "operator": "regex", "type": "event"}])


def layout(y: int) -> dict[str, Any]:
    return {"sm": {"x": 0, "y": y, "w": 6, "h": 5}}


async def messages(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """PostHog framing: every message is one `data: <json>` line and a blank line; comments are skipped."""
    pending: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith(":"):
            continue
        if line == "":
            if pending:
                assert len(pending) == 1, pending
                yield orjson.loads(pending[0].removeprefix("data: "))
                pending = []
            continue
        assert line.startswith("data: "), line
        pending.append(line)


async def collect(
    client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> tuple[httpx.Response, list[dict[str, Any]]]:
    async with client.stream("GET", url, headers=headers) as response:
        if response.status_code != 200:
            await response.aread()
            return response, []
        return response, [m async for m in messages(response)]


async def board_with_tiles(
    api: httpx.AsyncClient, team: Team, queries: list[dict[str, Any]]
) -> dict[str, Any]:
    board = await new_dashboard(api, team)
    for index, query in enumerate(queries):
        insight = await create_insight(api, team, name=f"tile {index}", query=query, dashboards=[board["id"]])
        tile_id = insight["dashboard_tiles"][0]["id"]
        await api.patch(
            f"/api/projects/{team.id}/dashboards/{board['id']}/",
            json={"tiles": [{"id": tile_id, "layouts": layout(index * 5)}]},
            headers=team.headers,
        )
    return board


@pytest.fixture
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        yield client


@pytest.fixture
async def pageviews(engine: AsyncEngine, team: Team) -> int:
    now = utcnow()
    rows = [EventRow("$pageview", now - timedelta(minutes=10 + n), None, distinct_id="u") for n in range(5)]
    rows += [EventRow("signup", now - timedelta(minutes=10), None, distinct_id="u")]
    await insert_events(engine, team.id, rows)
    return 5


async def test_message_order_and_shapes(http: httpx.AsyncClient, team: Team, pageviews: int) -> None:
    board = await board_with_tiles(http, team, [trends(), trends("signup"), trends(), REGEX_ERROR])
    await http.patch(
        f"/api/projects/{team.id}/dashboards/{board['id']}/",
        json={"tiles": [{"text": {"body": "notes"}, "layouts": layout(100)}]},
        headers=team.headers,
    )
    url = f"/api/projects/{team.id}/dashboards/{board['id']}/stream_tiles/?refresh=blocking"
    response, received = await collect(http, url, team.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache, no-transform"
    assert response.headers["x-accel-buffering"] == "no"

    metadata, *tiles, complete = received
    assert metadata["type"] == "metadata"
    assert (metadata["dashboard"]["id"], metadata["dashboard"]["name"]) == (board["id"], board["name"])
    first, second = metadata["dashboard"]["tiles"]
    assert [first["insight"]["name"], second["insight"]["name"]] == ["tile 0", "tile 1"]
    assert first["insight"]["result"][0]["count"] == pageviews
    assert second["insight"]["result"][0]["count"] == 1
    assert complete == {"type": "complete"}
    by_order = {m.get("order"): m for m in tiles if m["type"] == "tile"}
    assert sorted(by_order) == [2, 4]
    assert by_order[2]["tile"]["insight"]["result"][0]["count"] == pageviews
    assert by_order[4]["tile"]["text"]["body"] == "notes"
    (error,) = [m for m in tiles if m["type"] == "error"]
    assert error["tile_id"] == next(t["id"] for t in (await tiles_of(http, team, board)) if t["order"] == 3)
    assert "regular expression" in error["error"]


async def tiles_of(http: httpx.AsyncClient, team: Team, board: dict[str, Any]) -> list[dict[str, Any]]:
    body = (await http.get(f"/api/projects/{team.id}/dashboards/{board['id']}/", headers=team.headers)).json()
    tiles: list[dict[str, Any]] = body["tiles"]
    return tiles


async def test_a_failing_tile_in_the_metadata(http: httpx.AsyncClient, team: Team) -> None:
    board = await board_with_tiles(http, team, [REGEX_ERROR, trends()])
    url = f"/api/projects/{team.id}/dashboards/{board['id']}/stream_tiles/?refresh=blocking"
    _, received = await collect(http, url, team.headers)
    broken, fine = received[0]["dashboard"]["tiles"]
    assert set(broken) == {"id", "error"}
    assert broken["error"]["type"] == "ValidationError"
    assert fine["insight"]["name"] == "tile 1"
    assert [m["type"] for m in received] == ["metadata", "complete"]


async def test_default_mode_streams_cached_results_only(
    http: httpx.AsyncClient, team: Team, pageviews: int
) -> None:
    board = await board_with_tiles(http, team, [trends()])
    url = f"/api/projects/{team.id}/dashboards/{board['id']}/stream_tiles/"
    _, before = await collect(http, url, team.headers)
    assert before[0]["dashboard"]["tiles"][0]["insight"]["result"] is None
    await http.get(
        f"/api/projects/{team.id}/dashboards/{board['id']}/?refresh=blocking", headers=team.headers
    )
    _, after = await collect(http, url + "?layoutSize=xs", team.headers)
    tile = after[0]["dashboard"]["tiles"][0]
    assert (tile["is_cached"], tile["insight"]["result"][0]["count"]) == (True, pageviews)


async def test_errors_before_streaming_are_json(
    http: httpx.AsyncClient, team: Team, other_team: Team
) -> None:
    theirs = await new_dashboard(http, other_team)
    for url, headers, status in (
        (f"/api/projects/{team.id}/dashboards/999999/stream_tiles/", team.headers, 404),
        (f"/api/projects/{team.id}/dashboards/{theirs['id']}/stream_tiles/", team.headers, 404),
        (f"/api/projects/{other_team.id}/dashboards/{theirs['id']}/stream_tiles/", team.headers, 403),
        (f"/api/projects/{team.id}/dashboards/1/stream_tiles/", {}, 401),
    ):
        response, _ = await collect(http, url, headers)
        assert response.status_code == status, url
        assert response.headers["content-type"] == "application/json"
        assert response.json()["type"] in ("invalid_request", "authentication_error")


@pytest.fixture
async def events_locked(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        await connection.execute(text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))
        yield connection
        await connection.rollback()


async def app_backends(engine: AsyncEngine, condition: str) -> int:
    async with engine.connect() as connection:
        sql = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            f"AND pid <> pg_backend_pid() AND {condition}"
        )
        return int((await connection.execute(text(sql))).scalar_one())


async def until(predicate: Any, seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while not await predicate():
        assert time.monotonic() < deadline, message
        await asyncio.sleep(0.05)


async def test_disconnect_cancels_the_tiles_queries(
    http: httpx.AsyncClient, team: Team, engine: AsyncEngine, events_locked: AsyncConnection
) -> None:
    board = await board_with_tiles(http, team, [trends(), trends("signup"), trends("other")])
    url = f"/api/projects/{team.id}/dashboards/{board['id']}/stream_tiles/?refresh=blocking"
    waiting = "wait_event_type = 'Lock' AND query LIKE '%events%'"
    async with http.stream("GET", url, headers=team.headers) as response:
        assert response.status_code == 200
        await until(lambda: _at_least(engine, waiting, 3), 15, "the tiles' queries never reached Postgres")
        # The route gave its session back before streaming: nothing of ours idles in a transaction
        # (except the connection holding the lock for this test).
        holder = (await events_locked.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        idle = f"state = 'idle in transaction' AND application_name = 'analytics' AND pid <> {int(holder)}"
        assert await app_backends(engine, idle) == 0
    closed_at = time.monotonic()
    await until(lambda: _none(engine, waiting), 5, "a tile's query kept running after the client left")
    assert time.monotonic() - closed_at < 2


async def _at_least(engine: AsyncEngine, condition: str, count: int) -> bool:
    return await app_backends(engine, condition) >= count


async def _none(engine: AsyncEngine, condition: str) -> bool:
    return await app_backends(engine, condition) == 0


@pytest.fixture
def capped_server(test_settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(test_settings.model_copy(update={"sse_max_streams": 1})) as server:
        yield server


async def test_the_stream_cap_answers_503_then_frees_the_slot(
    capped_server: LiveServer, team: Team, engine: AsyncEngine, events_locked: AsyncConnection
) -> None:
    async with httpx.AsyncClient(base_url=capped_server.url, timeout=30) as client:
        board = await board_with_tiles(client, team, [trends()])
        url = f"/api/projects/{team.id}/dashboards/{board['id']}/stream_tiles/"
        async with client.stream("GET", url + "?refresh=blocking", headers=team.headers) as held:
            assert held.status_code == 200
            refused, _ = await collect(client, url, team.headers)
            assert refused.status_code == 503
            assert 2 <= int(refused.headers["retry-after"]) <= 6
            assert refused.json()["code"] == "service_unavailable"
        await events_locked.rollback()
        await asyncio.sleep(0.3)
        again, received = await collect(client, url, team.headers)
        assert again.status_code == 200
        assert received[-1] == {"type": "complete"}


async def test_keepalive_comments_hold_a_slow_stream_open(
    http: httpx.AsyncClient, team: Team, monkeypatch: pytest.MonkeyPatch, events_locked: AsyncConnection
) -> None:
    monkeypatch.setattr("app.sse.KEEPALIVE_SECONDS", 0.2)
    board = await board_with_tiles(http, team, [trends()])
    url = f"/api/projects/{team.id}/dashboards/{board['id']}/stream_tiles/?refresh=blocking"
    comments = 0
    async with http.stream("GET", url, headers=team.headers) as response:
        async for line in response.aiter_lines():
            if line.startswith(":"):
                assert line == ": keepalive"
                comments += 1
            if comments == 3:
                break
    assert comments == 3


async def test_a_shared_dashboard_streams_without_a_key(
    http: httpx.AsyncClient, team: Team, pageviews: int
) -> None:
    board = await board_with_tiles(http, team, [trends(), trends("signup"), trends()])
    await http.get(
        f"/api/projects/{team.id}/dashboards/{board['id']}/?refresh=blocking", headers=team.headers
    )
    sharing = await http.patch(
        f"/api/projects/{team.id}/dashboards/{board['id']}/sharing/",
        json={"enabled": True},
        headers=team.headers,
    )
    token = sharing.json()["access_token"]
    response, received = await collect(http, f"/shared/{token}/stream_tiles/", {})
    assert response.status_code == 200
    assert [m["type"] for m in received] == ["metadata", "tile", "complete"]
    assert received[0]["dashboard"]["tiles"][0]["insight"]["result"][0]["count"] == pageviews
    assert "created_by" not in received[1]["tile"]["insight"]
    gone, _ = await collect(http, "/shared/not-a-real-token/stream_tiles/", {})
    assert gone.status_code == 404
