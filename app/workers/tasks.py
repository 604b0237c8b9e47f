"""Task functions run by the arq worker pool."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from arq import Retry, cron
from arq.worker import func
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from app.db import raw_connection
from app.errors import APIError
from app.execution.context import RUN_QUERY_TASK
from app.execution.runner import CANCELLED_MESSAGE, ExecutionContext, response_body, run_on_connection
from app.execution.status import QueryStatus, StatusStore
from app.ingestion import definitions
from app.models.base import utcnow
from app.query.api import prepare_from_job

logger = logging.getLogger(__name__)

QUERY_TIMEOUT_S = 600
QUERY_MAX_TRIES = 3


async def ping(ctx: dict[str, Any]) -> dict[str, Any]:
    """Proves a worker is alive and can reach Postgres (used by health checks and tests)."""
    async with ctx["engine"].connect() as connection:
        server_time = (await connection.execute(text("SELECT now()"))).scalar_one()
    return {"pong": True, "database_time": server_time.isoformat()}


async def _beat(statuses: StatusStore, team_id: int, query_id: str) -> None:
    while True:
        await statuses.heartbeat(team_id, query_id)
        await asyncio.sleep(statuses.heartbeat_every.total_seconds())


def _is_transient(exc: BaseException) -> bool:
    """Lost connections are worth a retry; errors in the query itself are not."""
    return isinstance(exc, (OSError, InterfaceError)) or (
        isinstance(exc, OperationalError) and exc.connection_invalidated
    )


async def _finish(statuses: StatusStore, status: QueryStatus) -> None:
    # A cancellation recorded while the query ran is the final word.
    latest = await statuses.load(status.team_id, status.id)
    if latest is not None and latest.complete and latest.error_message == CANCELLED_MESSAGE:
        return
    status.complete, status.end_time = True, utcnow()
    await statuses.save(status)


async def run_query(ctx: dict[str, Any], job: dict[str, Any]) -> None:
    """Compute one async query into the result cache and its status record (job id = query id).

    Status contract: `pickup_time` on start, a heartbeat while running (so a killed worker is
    detected by pollers), then `complete` with `results`, or `error` with a message only for
    user-facing errors. Lost database connections are retried up to QUERY_MAX_TRIES times.
    """
    execution: ExecutionContext = ctx["execution"]
    statuses = execution.statuses
    team_id, query_id = int(job["team"]["id"]), str(job["query_id"])
    status = await statuses.load(team_id, query_id)
    if status is None or status.complete:
        return  # cancelled (or expired) before a worker got to it
    status.pickup_time = utcnow()
    await statuses.save(status)
    heartbeat = asyncio.create_task(_beat(statuses, team_id, query_id))
    try:
        prepared = prepare_from_job(job, now=utcnow())

        async def compute() -> dict[str, Any]:
            return await run_on_connection(execution, prepared, query_id)

        cached = await execution.cache.compute_once(prepared.cache_key, compute)
        status.results = response_body(prepared, cached, is_cached=False, status=None)
    except APIError as exc:
        status.error, status.error_message = True, exc.detail
    except (DBAPIError, OSError) as exc:
        if _is_transient(exc) and ctx.get("job_try", 1) < QUERY_MAX_TRIES:
            raise Retry(defer=ctx.get("job_try", 1) * 2) from exc
        logger.exception("query %s failed", query_id)
        status.error = True
    except Exception:
        logger.exception("query %s failed", query_id)
        status.error = True
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
    await _finish(statuses, status)


async def refresh_event_volumes(ctx: dict[str, Any]) -> None:
    """Periodic: event definitions' 30-day volumes, counted from the events."""
    async with raw_connection(ctx["engine"]) as raw:
        await definitions.refresh_volumes(raw)


TASKS: list[Any] = [
    ping,
    # keep_result=0: a finished job leaves nothing behind, so a forced re-run can reuse the query id.
    func(run_query, name=RUN_QUERY_TASK, keep_result=0, timeout=QUERY_TIMEOUT_S, max_tries=QUERY_MAX_TRIES),
]
# Volumes move slowly; PostHog refreshes them daily. Every six hours, on a quiet minute.
CRON_JOBS: list[Any] = [cron(refresh_event_volumes, hour={1, 7, 13, 19}, minute=17, timeout=1800)]
