"""Fixed-window limits on real Redis."""

from __future__ import annotations

from redis.asyncio import Redis

from app.ratelimit import RateLimiter, Window


async def test_blocks_past_the_minute_budget_and_says_how_long(redis: Redis) -> None:
    limiter = RateLimiter(redis, [Window(3, 60), Window(100, 3600)])
    now = 16_666_666 * 60 + 20.0  # 20 s into a minute window
    assert [await limiter.hit("k", now=now) for _ in range(3)] == [None, None, None]
    assert await limiter.hit("k", now=now) == 40
    assert await limiter.hit("other", now=now) is None
    assert await limiter.hit("k", now=now + 60) is None  # next window


async def test_hourly_budget(redis: Redis) -> None:
    limiter = RateLimiter(redis, [Window(100, 60), Window(2, 3600)])
    now = 1_000_000_000.0
    await limiter.hit("k", now=now)
    await limiter.hit("k", now=now + 61)
    wait = await limiter.hit("k", now=now + 122)
    assert wait is not None
    assert wait > 60
