"""Cache reads issued together go to Redis as one MGET, and each reader still gets its own answer."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from app.execution.cache import ResultCache
from app.settings import Settings

REFRESHED = datetime(2026, 5, 1, 12, tzinfo=UTC)


class CountingRedis(Redis):
    """The real client, noting which commands it sends."""

    commands: list[str]

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        self.commands.append(str(args[0]))
        return await super().execute_command(*args, **options)


@pytest.fixture
async def counting(test_settings: Settings) -> AsyncIterator[CountingRedis]:
    client = CountingRedis.from_url(test_settings.redis_url or "")
    client.commands = []
    yield client
    await client.aclose()


async def test_concurrent_reads_are_one_mget_with_each_answer_in_place(counting: CountingRedis) -> None:
    cache = ResultCache(counting)
    prefix = uuid.uuid4().hex
    stored = {f"{prefix}-{n}": {"results": [n]} for n in range(30)}
    for key, response in stored.items():
        await cache.put(key, response, REFRESHED)
    wanted = [*stored, *(f"{prefix}-missing-{n}" for n in range(20))]
    counting.commands.clear()

    results = await asyncio.gather(*(cache.get(key) for key in wanted))

    assert counting.commands == ["MGET"]
    for key, result in zip(wanted, results, strict=True):
        if key in stored:
            assert result is not None
            assert (result.response, result.last_refresh) == (stored[key], REFRESHED)
        else:
            assert result is None


async def test_reads_awaited_one_after_another_each_go_out(counting: CountingRedis) -> None:
    cache = ResultCache(counting)
    key = uuid.uuid4().hex
    await cache.put(key, {"results": [1]}, REFRESHED)
    counting.commands.clear()
    first = await cache.get(key)
    second = await cache.get(key)
    assert counting.commands == ["MGET", "MGET"]
    assert first == second
    assert first is not None


async def test_a_reader_leaving_does_not_fail_the_others_on_its_key(counting: CountingRedis) -> None:
    cache = ResultCache(counting)
    key = uuid.uuid4().hex
    await cache.put(key, {"results": [7]}, REFRESHED)
    leaving, staying = asyncio.create_task(cache.get(key)), asyncio.create_task(cache.get(key))
    await asyncio.sleep(0)
    leaving.cancel()
    result = await staying
    assert result is not None
    assert result.response == {"results": [7]}
    assert leaving.cancelled()


async def test_a_redis_failure_reaches_every_reader() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    redis = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=1)
    try:
        cache = ResultCache(redis)
        outcomes = await asyncio.gather(cache.get("a"), cache.get("b"), return_exceptions=True)
        assert all(isinstance(outcome, RedisConnectionError) for outcome in outcomes), outcomes
    finally:
        await redis.aclose()
