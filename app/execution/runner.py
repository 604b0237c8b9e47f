"""The mode table of reference §1.9, over any prepared query.

`PreparedQuery` is what the engine adapter hands over: the cache key, what staleness depends on,
and a `run(connection)` that computes the response body. Everything here is engine-agnostic.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.execution import cache_policy
from app.execution.cache import CachedResult, ResultCache
from app.execution.modes import ExecutionMode
from app.execution.status import QueryStatus, StatusStore, backend_key
from app.models.base import utcnow

CANCELLED_MESSAGE = "Query cancelled"


@dataclass(frozen=True, slots=True)
class PreparedQuery:
    team_id: int
    kind: str
    cache_key: str
    timezone: str
    interval: str | None
    date_to: datetime | None
    range_days: float | None
    run: Callable[[AsyncConnection], Awaitable[dict[str, Any]]]
    # Everything a worker needs to prepare the same query again (JSON-serializable).
    job: dict[str, Any] = field(default_factory=dict)


Enqueue = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ExecutionContext:
    engine: AsyncEngine
    cache: ResultCache
    statuses: StatusStore
    enqueue: Enqueue


async def run_on_connection(
    ctx: ExecutionContext, prepared: PreparedQuery, query_id: str | None
) -> dict[str, Any]:
    """Run on a fresh connection whose backend pid is registered under `query_id`, for cancellation."""
    async with ctx.engine.connect() as connection:
        if query_id:
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await ctx.statuses.redis.set(backend_key(prepared.team_id, query_id), pid, ex=3600)
        try:
            return await prepared.run(connection)
        finally:
            if query_id:
                await ctx.statuses.redis.delete(backend_key(prepared.team_id, query_id))


def response_body(
    prepared: PreparedQuery, cached: CachedResult | None, *, is_cached: bool, status: QueryStatus | None
) -> dict[str, Any]:
    if cached is None:
        body: dict[str, Any] = {
            "results": None,
            "is_cached": False,
            "last_refresh": None,
            "cache_target_age": None,
            "next_allowed_client_refresh": None,
        }
    else:
        body = {
            **cached.response,
            "is_cached": is_cached,
            "last_refresh": cached.last_refresh,
            "cache_target_age": cache_policy.cache_target_age(
                cached.last_refresh, prepared.interval, prepared.date_to
            ),
            "next_allowed_client_refresh": cache_policy.next_allowed_client_refresh(
                cached.last_refresh, prepared.kind, prepared.interval, prepared.range_days
            ),
        }
    body["cache_key"] = prepared.cache_key
    body["timezone"] = prepared.timezone
    body["query_status"] = status.model_dump(mode="json") if status else None
    return body


async def enqueue_query(
    ctx: ExecutionContext,
    prepared: PreparedQuery,
    query_id: str,
    *,
    force: bool,
    insight_id: int | None = None,
    dashboard_id: int | None = None,
) -> QueryStatus:
    """Start (or join) the async computation of `prepared` under `query_id`."""
    existing = await ctx.statuses.load(prepared.team_id, query_id)
    if existing is not None and not (force and existing.complete):
        return existing
    status = await ctx.statuses.save(
        QueryStatus(
            id=query_id,
            team_id=prepared.team_id,
            insight_id=insight_id,
            dashboard_id=dashboard_id,
            start_time=utcnow(),
            task_id=query_id,
        )
    )
    await ctx.enqueue(
        query_id,
        {**prepared.job, "query_id": query_id, "insight_id": insight_id, "dashboard_id": dashboard_id},
    )
    return status


async def execute(
    ctx: ExecutionContext,
    prepared: PreparedQuery,
    mode: ExecutionMode,
    *,
    query_id: str | None = None,
    insight_id: int | None = None,
    dashboard_id: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    now = now or utcnow()
    async_id = query_id or prepared.cache_key

    async def compute() -> dict[str, Any]:
        return await run_on_connection(ctx, prepared, query_id)

    async def blocking(since: datetime | None = None) -> dict[str, Any]:
        computed = await ctx.cache.compute_once(prepared.cache_key, compute, since=since)
        return response_body(prepared, computed, is_cached=False, status=None)

    async def start_async(force: bool) -> QueryStatus:
        return await enqueue_query(
            ctx, prepared, async_id, force=force, insight_id=insight_id, dashboard_id=dashboard_id
        )

    if mode is ExecutionMode.FORCE_BLOCKING:
        return await blocking()
    if mode is ExecutionMode.FORCE_ASYNC:
        return response_body(prepared, None, is_cached=False, status=await start_async(force=True))

    read_at = utcnow()  # the real clock, as `last_refresh` is (`now` may be injected)
    cached = await ctx.cache.get(prepared.cache_key)
    lazy = mode is ExecutionMode.LAZY_ASYNC
    fresh = cached is not None and not cache_policy.is_stale(
        last_refresh=cached.last_refresh,
        now=now,
        date_to=prepared.date_to,
        interval=prepared.interval,
        lazy=lazy,
    )
    if fresh:
        return response_body(prepared, cached, is_cached=True, status=None)
    if mode is ExecutionMode.FORCE_CACHE:
        in_flight = await ctx.statuses.load(prepared.team_id, async_id)
        return response_body(prepared, cached, is_cached=cached is not None, status=in_flight)
    if mode is ExecutionMode.BLOCKING or (
        mode is ExecutionMode.ASYNC_EXCEPT_ON_CACHE_MISS and cached is None
    ):
        return await blocking(since=read_at)
    # async, lazy_async, async_except_on_cache_miss with a stale cache: serve stale, recompute in background.
    return response_body(prepared, cached, is_cached=cached is not None, status=await start_async(force=True))


async def cancel(ctx: ExecutionContext, team_id: int, query_id: str) -> bool:
    """Mark `query_id` cancelled, then stop the Postgres statement running it (wherever it runs).

    The order matters: the worker sees its statement fail (SQLSTATE 57014, the same as a timeout) as
    soon as the backend is cancelled, and must find the cancellation already recorded (`_finish` in
    app/workers/tasks.py keeps it) rather than report the failure as a timeout.
    """
    status = await ctx.statuses.load(team_id, query_id)
    if status is not None and not status.complete:
        status.error, status.complete, status.error_message, status.end_time = (
            True,
            True,
            CANCELLED_MESSAGE,
            utcnow(),
        )
        await ctx.statuses.save(status)
    pid = await ctx.statuses.redis.get(backend_key(team_id, query_id))
    if pid is not None:
        async with ctx.engine.connect() as connection:
            await connection.execute(text("SELECT pg_cancel_backend(:pid)"), {"pid": int(pid)})
    return status is not None or pid is not None
