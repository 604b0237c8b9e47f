"""Insights with a real arq worker: async refresh end to end, cancellation, a worker killed mid-query."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.execution.runner import CANCELLED_MESSAGE
from app.execution.status import WORKER_LOST_MESSAGE
from app.main import create_app
from app.settings import Settings
from tests.conftest import WorkerProcess
from tests.execution.test_async_queries import (
    backends_waiting,
    events_locked,
    poll_until_complete,
    wait_for_backend,
)
from tests.factories.events import EventRow, insert_events
from tests.factories.identity import Team
from tests.factories.insights import create_insight
from tests.insights.test_results import oracle_count, seeded_rows

__all__ = ["events_locked"]  # a fixture, imported for these tests


async def test_async_refresh_then_poll_then_cached(
    client: httpx.AsyncClient, team: Team, engine: AsyncEngine, arq_worker: WorkerProcess
) -> None:
    rows: list[EventRow] = seeded_rows()
    await insert_events(engine, team.id, rows)
    insight = await create_insight(client, team)
    url = f"/api/projects/{team.id}/insights/{insight['id']}/"
    started = (await client.get(url + "?refresh=async", headers=team.headers)).json()
    status = started["query_status"]
    assert (started["result"], status["complete"], status["insight_id"]) == (None, False, insight["id"])
    assert status["id"] == started["filters_hash"]  # identical queries share one job: id = cache key

    done = await poll_until_complete(client, team, status["id"], seconds=30)
    assert done.status_code == 200
    finished = done.json()["query_status"]
    assert (finished["complete"], finished["error"]) == (True, False)
    assert finished["results"]["results"][0]["count"] == oracle_count(rows, "$pageview")

    cached = (await client.get(url, headers=team.headers)).json()
    assert cached["is_cached"] is True
    assert cached["result"][0]["count"] == oracle_count(rows, "$pageview")
    assert cached["query_status"] is None


async def test_cancel_by_client_query_id_frees_the_backend_within_two_seconds(
    client: httpx.AsyncClient,
    team: Team,
    engine: AsyncEngine,
    events_locked: AsyncConnection,
    arq_worker: WorkerProcess,
) -> None:
    insight = await create_insight(client, team)
    url = (
        f"/api/projects/{team.id}/insights/{insight['id']}/?refresh=force_async&client_query_id=slow-insight"
    )
    assert (await client.get(url, headers=team.headers)).json()["query_status"]["id"] == "slow-insight"
    await wait_for_backend(client, team, "slow-insight")
    deadline = time.monotonic() + 10
    while await backends_waiting(engine) != 1:
        assert time.monotonic() < deadline, "the query never reached Postgres"
        await asyncio.sleep(0.05)

    cancelled_at = time.monotonic()
    response = await client.post(
        f"/api/projects/{team.id}/insights/cancel/",
        json={"client_query_id": "slow-insight"},
        headers=team.headers,
    )
    assert response.status_code == 201
    while await backends_waiting(engine):
        assert time.monotonic() - cancelled_at < 2, "the Postgres statement outlived its cancellation"
        await asyncio.sleep(0.05)
    final = await poll_until_complete(client, team, "slow-insight", seconds=10)
    assert final.status_code == 400
    assert final.json()["query_status"]["error_message"] == CANCELLED_MESSAGE


async def test_cancel_needs_a_client_query_id(client: httpx.AsyncClient, team: Team) -> None:
    response = await client.post(f"/api/projects/{team.id}/insights/cancel/", json={}, headers=team.headers)
    assert (response.status_code, response.json()["attr"]) == (400, "client_query_id")


@pytest.fixture
def quick_loss_settings(test_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("QUERY_WORKER_LOST_AFTER_S", "2")
    return test_settings.model_copy(update={"query_worker_lost_after_s": 2})


@pytest.fixture
async def quick_loss_client(quick_loss_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    application: FastAPI = create_app(quick_loss_settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


@pytest.fixture
def doomed_worker(quick_loss_settings: Settings) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(quick_loss_settings)
    worker.start()
    yield worker
    worker.stop()


async def test_worker_killed_mid_query_ends_in_error(
    quick_loss_client: httpx.AsyncClient,
    team: Team,
    events_locked: AsyncConnection,
    doomed_worker: WorkerProcess,
) -> None:
    client = quick_loss_client
    insight = await create_insight(client, team)
    url = f"/api/projects/{team.id}/insights/{insight['id']}/?refresh=force_async&client_query_id=doomed-one"
    await client.get(url, headers=team.headers)
    await wait_for_backend(client, team, "doomed-one")
    assert doomed_worker.process is not None
    os.kill(doomed_worker.process.pid, signal.SIGKILL)
    doomed_worker.process.wait()
    final = await poll_until_complete(client, team, "doomed-one", seconds=15)
    status = final.json()["query_status"]
    assert final.status_code == 400
    assert (status["complete"], status["error"], status["error_message"]) == (True, True, WORKER_LOST_MESSAGE)
    shown = (
        await client.get(f"/api/projects/{team.id}/insights/{insight['id']}/", headers=team.headers)
    ).json()
    assert shown["result"] is None
