"""Building an `ExecutionContext` from what a process owns (the app's state or a worker's ctx)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from app.execution.cache import ResultCache
from app.execution.runner import ExecutionContext
from app.execution.status import StatusStore
from app.settings import Settings
from app.workers.queue import enqueue

RUN_QUERY_TASK = "run_query"


def build_context(engine: AsyncEngine, redis: Redis, queue: ArqRedis, settings: Settings) -> ExecutionContext:
    async def enqueue_run(query_id: str, job: dict[str, Any]) -> None:
        # job id = query id: a second enqueue of a queued or running query joins it.
        await enqueue(queue, RUN_QUERY_TASK, job, job_id=query_id)

    return ExecutionContext(
        engine=engine,
        cache=ResultCache(redis),
        statuses=StatusStore(redis, lost_after=timedelta(seconds=settings.query_worker_lost_after_s)),
        enqueue=enqueue_run,
    )
