"""The only module that imports arq's client: the rest of the code calls `enqueue(...)`.

arq is in maintenance mode upstream; keeping it behind this seam makes it replaceable.
"""

from __future__ import annotations

from typing import Any

from arq.connections import ArqRedis, RedisSettings
from arq.jobs import Job
from redis.asyncio import ConnectionPool

QUEUE_NAME = "analytics:queue"


def redis_settings(redis_url: str) -> RedisSettings:
    return RedisSettings.from_dsn(redis_url)


def create_queue(redis_url: str) -> ArqRedis:
    """A lazily connecting queue client: the API starts (and reports 503s) while Redis is down."""
    pool = ConnectionPool.from_url(redis_url, socket_connect_timeout=2)
    return ArqRedis(pool, default_queue_name=QUEUE_NAME)


async def enqueue(
    queue: ArqRedis, task: str, *args: Any, job_id: str | None = None, **kwargs: Any
) -> Job | None:
    """Enqueue `task`; with a `job_id` an identical job already queued or running is not duplicated."""
    return await queue.enqueue_job(task, *args, _job_id=job_id, **kwargs)
