"""Per-key rate limits for query-heavy endpoints (PostHog's analytics limits: 240/minute, 1200/hour).

Fixed windows in Redis (one INCR per window per request): cheap and shared by every process. If
Redis is unreachable the limit fails open: availability of reads matters more than the throttle.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.deps import AuthDep
from app.errors import Throttled

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Window:
    limit: int
    seconds: int


class RateLimiter:
    def __init__(self, redis: Redis, windows: list[Window]) -> None:
        self.redis = redis
        self.windows = windows

    async def hit(self, subject: str, *, now: float | None = None) -> int | None:
        """Count one request; return seconds to wait when over a limit, else None."""
        now = time.time() if now is None else now
        pipeline = self.redis.pipeline(transaction=False)
        starts = []
        for window in self.windows:
            start = int(now // window.seconds) * window.seconds
            starts.append(start)
            key = f"ratelimit:{subject}:{window.seconds}:{start}"
            pipeline.incr(key)
            pipeline.expire(key, window.seconds + 1)
        counts = (await pipeline.execute())[::2]
        waits = [
            start + window.seconds - int(now)
            for window, start, count in zip(self.windows, starts, counts, strict=True)
            if count > window.limit
        ]
        return max(waits) if waits else None


async def enforce_analytics_limit(request: Request, auth: AuthDep) -> None:
    """429 with `Retry-After` past the key's budget (also callable for requests that only sometimes
    compute, e.g. an insight read with a computing `refresh`)."""
    settings = request.app.state.settings
    limiter = RateLimiter(
        request.app.state.redis,
        [Window(settings.rate_limit_per_minute, 60), Window(settings.rate_limit_per_hour, 3600)],
    )
    try:
        wait = await limiter.hit(f"key:{auth.key.id}")
    except RedisError:
        logger.warning("rate limiter unavailable; allowing request")
        return
    if wait is not None:
        raise Throttled(max(wait, 1))


def analytics_rate_limit() -> Any:
    """Route dependency for query-heavy endpoints."""
    return Depends(enforce_analytics_limit)
