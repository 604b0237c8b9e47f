"""The Redis result cache and single flight.

Results are stored as JSON under `cache:{cache_key}` with their `last_refresh`. Identical
computations in flight run once: within a process through a shared future, across processes
through a Redis lock whose losers wait for the winner's cached result.

Reads issued together are read together: every `get` started in one turn of the event loop (a
list page's or a dashboard's insights, concurrent requests) goes out as one MGET at the end of
that turn. A redis-py command costs 75-100 us of CPU whatever its size, so a page of 100
insights paid 100 of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from redis.asyncio import Redis

from app.models.base import utcnow
from app.responses import dumps

# Results outlive their freshness so `force_cache` and stale-while-revalidate can still serve them.
CACHE_TTL = timedelta(days=7)
LOCK_TTL = timedelta(minutes=10)
LOCK_POLL = 0.05


@dataclass(frozen=True, slots=True)
class CachedResult:
    response: dict[str, Any]
    last_refresh: datetime


def _cache_key(key: str) -> str:
    return f"cache:{key}"


def _lock_key(key: str) -> str:
    return f"cache-lock:{key}"


@dataclass(slots=True)
class _Flight:
    task: asyncio.Task[CachedResult]
    waiters: int = 0
    abandoned: bool = False


class ResultCache:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._in_flight: dict[str, _Flight] = {}
        self._unread: dict[str, asyncio.Future[bytes | None]] = {}  # keys for the next MGET
        self._reads: set[asyncio.Task[None]] = set()

    async def get(self, key: str) -> CachedResult | None:
        raw = await asyncio.shield(self._read(_cache_key(key)))  # shared by same-key readers
        if raw is None:
            return None
        payload = orjson.loads(raw)
        return CachedResult(
            response=payload["response"], last_refresh=datetime.fromisoformat(payload["last_refresh"])
        )

    def _read(self, redis_key: str) -> asyncio.Future[bytes | None]:
        pending = self._unread.get(redis_key)
        if pending is None:
            loop = asyncio.get_running_loop()
            if not self._unread:
                loop.call_soon(self._send_reads)
            pending = self._unread[redis_key] = loop.create_future()
            # Retrieved here too, so a failure whose readers all went away is not logged as lost.
            pending.add_done_callback(lambda done: done.cancelled() or done.exception())
        return pending

    def _send_reads(self) -> None:
        batch, self._unread = self._unread, {}
        task = asyncio.ensure_future(self._mget(batch))
        self._reads.add(task)  # held until done: the loop keeps only weak references to tasks
        task.add_done_callback(self._reads.discard)

    async def _mget(self, batch: dict[str, asyncio.Future[bytes | None]]) -> None:
        try:
            values = await self.redis.mget(list(batch))
        except asyncio.CancelledError:
            for pending in batch.values():
                pending.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - handed to every reader, as its own GET would raise it
            for pending in batch.values():
                if not pending.done():
                    pending.set_exception(exc)
            return
        for pending, value in zip(batch.values(), values, strict=True):
            if not pending.done():
                pending.set_result(value)

    async def put(self, key: str, response: dict[str, Any], last_refresh: datetime) -> CachedResult:
        payload = {"response": response, "last_refresh": last_refresh.isoformat()}
        await self.redis.set(_cache_key(key), dumps(payload), ex=int(CACHE_TTL.total_seconds()))
        return CachedResult(response=response, last_refresh=last_refresh)

    async def compute_once(
        self, key: str, compute: Callable[[], Awaitable[dict[str, Any]]], *, since: datetime | None = None
    ) -> CachedResult:
        """Compute and cache `key`, sharing the work with identical concurrent calls anywhere.

        The computation runs in its own task, owned by nobody: a caller that goes away (a closed
        dashboard stream) stops waiting without failing the others, and the computation itself is
        cancelled (stopping its Postgres statement) only when no caller is waiting any more.

        `since`: a result cached at or after it is one the caller has not seen (it read the cache
        just before), so it is taken instead of computing again; without it, only a result cached
        after this call began counts.
        """
        flight = self._in_flight.get(key)
        if flight is None or flight.abandoned:
            flight = _Flight(asyncio.ensure_future(self._compute_with_lock(key, compute, since or utcnow())))
            self._in_flight[key] = flight
            flight.task.add_done_callback(lambda _: self._forget(key, flight))
        flight.waiters += 1
        try:
            return await asyncio.shield(flight.task)
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                flight.abandoned = True
                flight.task.cancel()

    def _forget(self, key: str, flight: _Flight) -> None:
        if self._in_flight.get(key) is flight:
            del self._in_flight[key]
        if not flight.task.cancelled():
            flight.task.exception()  # retrieved: every waiter has re-raised it already

    async def _compute_with_lock(
        self, key: str, compute: Callable[[], Awaitable[dict[str, Any]]], since: datetime
    ) -> CachedResult:
        while not await self.redis.set(_lock_key(key), "1", nx=True, px=int(LOCK_TTL.total_seconds() * 1000)):
            # Another process is computing it: wait for its result (or for its lock to go away).
            await asyncio.sleep(LOCK_POLL)
            cached = await self.get(key)
            if cached is not None and cached.last_refresh >= since:
                return cached
        try:
            # Another process may have finished (and unlocked) between our read and our lock.
            cached = await self.get(key)
            if cached is not None and cached.last_refresh >= since:
                return cached
            response = await compute()
            return await self.put(key, response, utcnow())
        finally:
            await self.redis.delete(_lock_key(key))
