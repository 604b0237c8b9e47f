"""Async query status records in Redis: `query_async:{team_id}:{query_id}` JSON, 20-minute TTL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from redis.asyncio import Redis

from app.models.base import utcnow

STATUS_TTL = timedelta(minutes=20)
# A picked-up query whose worker stopped refreshing its heartbeat for `lost_after` has lost its worker.
LOST_AFTER = timedelta(seconds=30)
WORKER_LOST_MESSAGE = "The worker running this query stopped before it finished. Run the query again."


class QueryStatus(BaseModel):
    id: str
    query_async: bool = True
    team_id: int
    insight_id: int | None = None
    dashboard_id: int | None = None
    error: bool = False
    complete: bool = False
    error_message: str | None = None
    results: Any = None
    start_time: datetime | None = None
    pickup_time: datetime | None = None
    end_time: datetime | None = None
    expiration_time: datetime | None = None
    task_id: str | None = None
    query_progress: dict[str, int] | None = None
    labels: list[str] | None = None


def status_key(team_id: int, query_id: str) -> str:
    return f"query_async:{team_id}:{query_id}"


def _heartbeat_key(team_id: int, query_id: str) -> str:
    return f"{status_key(team_id, query_id)}:heartbeat"


def backend_key(team_id: int, query_id: str) -> str:
    """Where the Postgres backend pid running the query is kept, for cancellation."""
    return f"{status_key(team_id, query_id)}:backend"


class StatusStore:
    def __init__(self, redis: Redis, *, lost_after: timedelta = LOST_AFTER) -> None:
        self.redis = redis
        self.lost_after = lost_after
        self.heartbeat_every = lost_after / 6

    async def save(self, status: QueryStatus) -> QueryStatus:
        status.expiration_time = utcnow() + STATUS_TTL
        await self.redis.set(
            status_key(status.team_id, status.id),
            status.model_dump_json(),
            ex=int(STATUS_TTL.total_seconds()),
        )
        return status

    async def load(self, team_id: int, query_id: str) -> QueryStatus | None:
        raw = await self.redis.get(status_key(team_id, query_id))
        if raw is None:
            return None
        status = QueryStatus.model_validate_json(raw)
        if await self._worker_lost(status):
            status.error, status.complete = True, True
            status.error_message, status.end_time = WORKER_LOST_MESSAGE, utcnow()
            await self.save(status)
        return status

    async def delete(self, team_id: int, query_id: str) -> bool:
        keys = [
            status_key(team_id, query_id),
            _heartbeat_key(team_id, query_id),
            backend_key(team_id, query_id),
        ]
        return bool(await self.redis.delete(*keys))

    async def heartbeat(self, team_id: int, query_id: str) -> None:
        await self.redis.set(
            _heartbeat_key(team_id, query_id), "1", px=int(self.lost_after.total_seconds() * 1000)
        )

    async def _worker_lost(self, status: QueryStatus) -> bool:
        if status.complete or status.pickup_time is None:
            return False
        if utcnow() - status.pickup_time < self.lost_after:
            return False
        return not await self.redis.exists(_heartbeat_key(status.team_id, status.id))
