"""Single flight when callers go away: the others still get the result; the last one out stops the work."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.execution.cache import ResultCache
from app.models.base import utcnow


def slow_query(engine: AsyncEngine, calls: list[int], seconds: float) -> Any:
    async def compute() -> dict[str, Any]:
        calls.append(1)
        async with engine.connect() as connection:
            await connection.execute(text("SELECT pg_sleep(:s)"), {"s": seconds})
        return {"results": [len(calls)]}

    return compute


async def sleeping(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        sql = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active'"
        return int((await connection.execute(text(sql))).scalar_one())


async def test_a_caller_leaving_does_not_fail_the_others(engine: AsyncEngine, redis: Redis) -> None:
    cache, calls = ResultCache(redis), []
    first = asyncio.create_task(cache.compute_once("k", slow_query(engine, calls, 0.5)))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(cache.compute_once("k", slow_query(engine, calls, 0.5)))
    await asyncio.sleep(0.1)
    first.cancel()
    result = await second
    assert (result.response, calls) == ({"results": [1]}, [1])
    assert first.cancelled()


async def test_the_last_caller_leaving_stops_the_statement(engine: AsyncEngine, redis: Redis) -> None:
    cache, calls = ResultCache(redis), []
    callers = [asyncio.create_task(cache.compute_once("k", slow_query(engine, calls, 30))) for _ in range(2)]
    deadline = time.monotonic() + 10
    while await sleeping(engine) == 0:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    for caller in callers:
        caller.cancel()
    await asyncio.gather(*callers, return_exceptions=True)
    stopped_at = time.monotonic()
    while await sleeping(engine):
        assert time.monotonic() - stopped_at < 2, "the statement outlived every caller"
        await asyncio.sleep(0.05)
    assert calls == [1]
    # A new caller afterwards computes afresh instead of joining the abandoned computation.
    assert (await cache.compute_once("k", slow_query(engine, calls, 0))).response == {"results": [2]}


async def test_a_result_cached_after_the_callers_read_is_taken_not_computed_again(redis: Redis) -> None:
    """Another process computed and unlocked between this caller's cache miss and its lock: its result
    is new to the caller, so the caller takes it (it computed twice under 50 subscribers over 2 processes)."""
    cache, calls = ResultCache(redis), []
    key = f"raced-{time.time_ns()}"
    read_at = utcnow()  # the caller's (missed) read
    await cache.put(key, {"results": ["theirs"]}, utcnow())  # the other process, done and unlocked

    async def ours() -> dict[str, Any]:
        calls.append(1)
        return {"results": ["ours"]}

    taken = await cache.compute_once(key, ours, since=read_at)
    assert (taken.response, calls) == ({"results": ["theirs"]}, [])
    # Without `since` (force_blocking), only what is cached after the call began counts: it computes.
    forced = await cache.compute_once(key, ours)
    assert (forced.response, calls) == ({"results": ["ours"]}, [1])
