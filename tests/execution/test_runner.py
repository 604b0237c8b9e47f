"""The mode table over real Postgres statements, the real Redis cache and the real arq queue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.execution.cache import ResultCache
from app.execution.modes import ExecutionMode
from app.execution.runner import CANCELLED_MESSAGE, ExecutionContext, PreparedQuery, cancel, execute
from app.execution.status import WORKER_LOST_MESSAGE, QueryStatus, StatusStore
from app.models.base import utcnow
from app.workers.queue import enqueue

Run = Callable[[AsyncConnection], Awaitable[dict[str, Any]]]


class CountingQuery:
    """A real SQL computation that counts how often it ran."""

    def __init__(self, sleep: float = 0.0) -> None:
        self.calls = 0
        self.sleep = sleep

    async def __call__(self, connection: AsyncConnection) -> dict[str, Any]:
        self.calls += 1
        value = (
            await connection.execute(
                text("SELECT :n * 2 FROM pg_sleep(:s)"), {"n": self.calls, "s": self.sleep}
            )
        ).scalar_one()
        return {"results": [value]}


def prepared(run: Run, key: str = "k1", interval: str | None = "day") -> PreparedQuery:
    return PreparedQuery(
        team_id=7,
        kind="TrendsQuery",
        cache_key=key,
        timezone="UTC",
        interval=interval,
        date_to=utcnow() + timedelta(days=1),
        range_days=7,
        run=run,
        job={"team_id": 7, "query": {"kind": "X"}},
    )


@pytest.fixture
def ctx(engine: AsyncEngine, redis: Redis, app: FastAPI) -> ExecutionContext:
    async def to_queue(job_id: str, kwargs: dict[str, Any]) -> None:
        await enqueue(app.state.queue, "run_query", kwargs, job_id=job_id)

    return ExecutionContext(
        engine=engine, cache=ResultCache(redis), statuses=StatusStore(redis), enqueue=to_queue
    )


async def test_force_cache_never_computes(ctx: ExecutionContext) -> None:
    run = CountingQuery()
    body = await execute(ctx, prepared(run), ExecutionMode.FORCE_CACHE)
    assert (body["results"], body["is_cached"], run.calls) == (None, False, 0)


async def test_blocking_computes_then_serves_cache(ctx: ExecutionContext) -> None:
    run = CountingQuery()
    first = await execute(ctx, prepared(run), ExecutionMode.BLOCKING)
    assert (first["results"], first["is_cached"]) == ([2], False)
    second = await execute(ctx, prepared(run), ExecutionMode.FORCE_CACHE)
    assert (second["results"], second["is_cached"], run.calls) == ([2], True, 1)
    assert second["last_refresh"] == first["last_refresh"]
    assert second["next_allowed_client_refresh"] == first["last_refresh"] + timedelta(minutes=3)


async def test_stale_cache_recomputes_when_blocking(ctx: ExecutionContext) -> None:
    run = CountingQuery()
    await execute(ctx, prepared(run), ExecutionMode.BLOCKING)
    later = utcnow() + timedelta(hours=7)  # day interval: stale after 6 hours
    fresh_enough = await execute(
        ctx, prepared(run), ExecutionMode.BLOCKING, now=utcnow() + timedelta(hours=5)
    )
    assert (fresh_enough["is_cached"], run.calls) == (True, 1)
    recomputed = await execute(ctx, prepared(run), ExecutionMode.BLOCKING, now=later)
    assert (recomputed["results"], recomputed["is_cached"], run.calls) == ([4], False, 2)


async def test_force_blocking_always_computes(ctx: ExecutionContext) -> None:
    run = CountingQuery()
    await execute(ctx, prepared(run), ExecutionMode.BLOCKING)
    again = await execute(ctx, prepared(run), ExecutionMode.FORCE_BLOCKING)
    assert (again["results"], run.calls) == ([4], 2)


async def test_single_flight_two_concurrent_blocking_compute_once(ctx: ExecutionContext) -> None:
    run = CountingQuery(sleep=0.3)
    first, second = await asyncio.gather(
        execute(ctx, prepared(run), ExecutionMode.BLOCKING),
        execute(ctx, prepared(run), ExecutionMode.BLOCKING),
    )
    assert run.calls == 1
    assert first["results"] == second["results"] == [2]


async def test_single_flight_across_cache_instances(ctx: ExecutionContext, redis: Redis) -> None:
    """Two processes share only Redis: model them with two ResultCache instances."""
    run = CountingQuery(sleep=0.3)
    other = ExecutionContext(
        engine=ctx.engine, cache=ResultCache(redis), statuses=ctx.statuses, enqueue=ctx.enqueue
    )
    await asyncio.gather(
        execute(ctx, prepared(run), ExecutionMode.BLOCKING),
        execute(other, prepared(run), ExecutionMode.BLOCKING),
    )
    assert run.calls == 1


async def test_async_enqueues_once_and_reports_status(ctx: ExecutionContext, app: FastAPI) -> None:
    run = CountingQuery()
    body = await execute(ctx, prepared(run), ExecutionMode.ASYNC, query_id="q-1")
    assert body["results"] is None
    assert body["query_status"]["id"] == "q-1"
    assert body["query_status"]["complete"] is False
    again = await execute(ctx, prepared(run), ExecutionMode.ASYNC, query_id="q-1")
    assert again["query_status"]["start_time"] == body["query_status"]["start_time"]
    queued = await app.state.queue.queued_jobs(queue_name="analytics:queue")
    assert [job.job_id for job in queued] == ["q-1"]
    assert queued[0].args[0]["query"] == {"kind": "X"}
    assert run.calls == 0


async def test_async_except_on_cache_miss_blocks_on_miss(ctx: ExecutionContext) -> None:
    run = CountingQuery()
    body = await execute(ctx, prepared(run), ExecutionMode.ASYNC_EXCEPT_ON_CACHE_MISS)
    assert (body["results"], run.calls) == ([2], 1)


async def test_cancel_stops_the_postgres_statement(ctx: ExecutionContext, engine: AsyncEngine) -> None:
    task = asyncio.create_task(
        execute(ctx, prepared(CountingQuery(sleep=30)), ExecutionMode.BLOCKING, query_id="slow")
    )
    await ctx.statuses.save(QueryStatus(id="slow", team_id=7, start_time=utcnow()))
    for _ in range(100):
        if await ctx.statuses.redis.exists("query_async:7:slow:backend"):
            break
        await asyncio.sleep(0.02)
    started = time.monotonic()
    assert await cancel(ctx, 7, "slow")
    with pytest.raises(Exception, match="cancel"):
        await task
    assert time.monotonic() - started < 2
    async with engine.connect() as connection:
        sleeping = (
            await connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(%' "
                    "AND state = 'active' AND pid != pg_backend_pid()"
                )
            )
        ).scalar_one()
    assert sleeping == 0
    status = await ctx.statuses.load(7, "slow")
    assert status is not None
    assert (status.complete, status.error, status.error_message) == (True, True, CANCELLED_MESSAGE)


async def test_lost_worker_ends_in_error(ctx: ExecutionContext) -> None:
    picked = utcnow() - timedelta(minutes=2)
    await ctx.statuses.save(QueryStatus(id="orphan", team_id=7, start_time=picked, pickup_time=picked))
    status = await ctx.statuses.load(7, "orphan")
    assert status is not None
    assert (status.complete, status.error, status.error_message) == (True, True, WORKER_LOST_MESSAGE)
    await ctx.statuses.save(QueryStatus(id="alive", team_id=7, start_time=picked, pickup_time=picked))
    await ctx.statuses.heartbeat(7, "alive")
    alive = await ctx.statuses.load(7, "alive")
    assert alive is not None
    assert not alive.complete
