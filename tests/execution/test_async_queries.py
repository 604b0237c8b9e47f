"""`/query` end to end with a real arq worker: async runs, polling, cancellation, a killed worker."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.execution.runner import CANCELLED_MESSAGE
from app.execution.status import WORKER_LOST_MESSAGE
from app.main import create_app
from app.models import Event
from app.models.base import utcnow
from app.settings import Settings
from tests.conftest import WorkerProcess
from tests.factories.identity import Team

SIGNUPS = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "signup"}]}


async def seed_signups(
    sessionmaker: async_sessionmaker[AsyncSession], team: Team, days_ago: list[int]
) -> None:
    now = utcnow()
    async with sessionmaker() as session:
        session.add_all(
            Event(
                uuid=uuid.uuid4(),
                team_id=team.id,
                event="signup",
                distinct_id=f"user-{i}",
                timestamp=now - timedelta(days=days, hours=1),
            )
            for i, days in enumerate(days_ago)
        )
        await session.commit()


async def poll_until_complete(
    client: httpx.AsyncClient, team: Team, query_id: str, seconds: float
) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        response = await client.get(f"/api/projects/{team.id}/query/{query_id}", headers=team.headers)
        if response.status_code != 202 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.1)


@pytest.fixture
async def events_locked(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """Holds an exclusive lock on `events`: any query over it waits, like a deliberately slow query."""
    async with engine.connect() as connection:
        await connection.execute(text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))
        yield connection
        await connection.rollback()


async def wait_for_backend(client: httpx.AsyncClient, team: Team, query_id: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = (await client.get(f"/api/projects/{team.id}/query/{query_id}", headers=team.headers)).json()
        if status["query_status"]["pickup_time"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the worker never picked the query up")


async def backends_waiting(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        sql = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%events%'"
        return int((await connection.execute(text(sql))).scalar_one())


class TestAsyncQuery:
    async def test_async_query_completes_then_serves_from_cache(
        self,
        client: httpx.AsyncClient,
        team: Team,
        sessionmaker: async_sessionmaker[AsyncSession],
        arq_worker: WorkerProcess,
    ) -> None:
        await seed_signups(sessionmaker, team, [0, 1, 1, 3])
        started = await client.post(
            f"/api/projects/{team.id}/query",
            json={"query": SIGNUPS, "refresh": "async"},
            headers=team.headers,
        )
        assert started.status_code == 202
        status = started.json()["query_status"]
        assert (status["complete"], status["results"], started.json()["results"]) == (False, None, None)

        done = await poll_until_complete(client, team, status["id"], seconds=30)
        assert done.status_code == 200
        finished = done.json()["query_status"]
        assert (finished["complete"], finished["error"]) == (True, False)
        assert finished["pickup_time"] is not None
        assert finished["end_time"] is not None
        assert finished["results"]["results"][0]["count"] == 4

        again = await client.post(
            f"/api/projects/{team.id}/query",
            json={"query": SIGNUPS, "refresh": "async"},
            headers=team.headers,
        )
        assert again.status_code == 200
        assert again.json()["is_cached"] is True
        assert again.json()["results"][0]["count"] == 4

    async def test_poll_of_unknown_or_foreign_query_is_404(
        self, client: httpx.AsyncClient, team: Team, other_team: Team, arq_worker: WorkerProcess
    ) -> None:
        started = await client.post(
            f"/api/projects/{other_team.id}/query",
            json={"query": SIGNUPS, "refresh": "force_async", "client_query_id": "theirs"},
            headers=other_team.headers,
        )
        assert started.status_code == 202
        for query_id in ("theirs", "nothing-here"):
            response = await client.get(f"/api/projects/{team.id}/query/{query_id}", headers=team.headers)
            assert response.status_code == 404
            assert response.json()["code"] == "query_not_found"

    async def test_cancel_stops_the_running_statement_within_two_seconds(
        self,
        client: httpx.AsyncClient,
        team: Team,
        engine: AsyncEngine,
        events_locked: AsyncConnection,
        arq_worker: WorkerProcess,
    ) -> None:
        body = {"query": SIGNUPS, "refresh": "force_async", "client_query_id": "slow-one"}
        assert (
            await client.post(f"/api/projects/{team.id}/query", json=body, headers=team.headers)
        ).status_code == 202
        await wait_for_backend(client, team, "slow-one")
        deadline = time.monotonic() + 10
        while await backends_waiting(engine) != 1:
            assert time.monotonic() < deadline, "the query never reached Postgres"
            await asyncio.sleep(0.05)

        cancelled_at = time.monotonic()
        response = await client.delete(f"/api/projects/{team.id}/query/slow-one", headers=team.headers)
        assert response.status_code == 204
        while await backends_waiting(engine):
            assert time.monotonic() - cancelled_at < 2, "the Postgres statement outlived its cancellation"
            await asyncio.sleep(0.05)

        final = await poll_until_complete(client, team, "slow-one", seconds=10)
        assert final.status_code == 400
        assert final.json()["query_status"]["error_message"] == CANCELLED_MESSAGE


@pytest.fixture
def short_heartbeat_settings(test_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("QUERY_WORKER_LOST_AFTER_S", "2")
    return test_settings.model_copy(update={"query_worker_lost_after_s": 2})


@pytest.fixture
async def short_heartbeat_client(short_heartbeat_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(short_heartbeat_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
def killable_worker(short_heartbeat_settings: Settings) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(short_heartbeat_settings)
    worker.start()
    yield worker
    worker.stop()


async def test_killed_worker_ends_in_error_not_running_forever(
    short_heartbeat_client: httpx.AsyncClient,
    team: Team,
    events_locked: AsyncConnection,
    killable_worker: WorkerProcess,
) -> None:
    client = short_heartbeat_client
    body = {"query": SIGNUPS, "refresh": "force_async", "client_query_id": "doomed"}
    assert (
        await client.post(f"/api/projects/{team.id}/query", json=body, headers=team.headers)
    ).status_code == 202
    await wait_for_backend(client, team, "doomed")
    assert killable_worker.process is not None
    os.kill(killable_worker.process.pid, signal.SIGKILL)
    killable_worker.process.wait()

    final = await poll_until_complete(client, team, "doomed", seconds=15)
    status: dict[str, Any] = final.json()["query_status"]
    assert final.status_code == 400
    assert (status["complete"], status["error"], status["error_message"]) == (True, True, WORKER_LOST_MESSAGE)
