"""arq `WorkerSettings`: `arq app.workers.settings.WorkerSettings` (what `analytics worker` runs)."""

from __future__ import annotations

from typing import Any, ClassVar

from app.db import create_engine, create_sessionmaker
from app.execution.context import build_context
from app.settings import get_settings
from app.workers.queue import QUEUE_NAME, redis_settings
from app.workers.tasks import CRON_JOBS, TASKS


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    ctx["settings"] = settings
    ctx["engine"] = create_engine(settings, pool_size=5)
    ctx["sessionmaker"] = create_sessionmaker(ctx["engine"])
    ctx["execution"] = build_context(ctx["engine"], ctx["redis"], ctx["redis"], settings)


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["engine"].dispose()


class WorkerSettings:
    functions: ClassVar[list[Any]] = TASKS
    cron_jobs: ClassVar[list[Any]] = CRON_JOBS
    on_startup = startup
    on_shutdown = shutdown
    queue_name = QUEUE_NAME
    redis_settings = redis_settings(get_settings().redis_url or "redis://127.0.0.1:6379")
    max_jobs = 8
    job_timeout = 600
    keep_result = 60
    health_check_interval = 10
    allow_abort_jobs = True
