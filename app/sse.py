"""Server-Sent Events for dashboard tiles, in PostHog's wire format (`data: <json>` + blank line).

Beyond PostHog: tiles are computed concurrently (bounded) and each is sent as soon as it is ready
(its `order` places it), keepalive comments hold proxies open, a client disconnect cancels the
tiles still pending, and each process caps how many streams it holds open (503 + Retry-After).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent

from app.errors import ServiceUnavailable
from app.observability import SSE_STREAMS_OPEN
from app.responses import dumps

KEEPALIVE_SECONDS = 15


class StreamCapacity:
    """Per-process cap on open streams; past it a request gets 503 with a jittered Retry-After."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        self.reserve()
        try:
            yield
        finally:
            self.release()

    def reserve(self) -> None:
        if self.open >= self.limit:
            raise ServiceUnavailable(
                "Too many open dashboard streams on this server. Retry shortly.",
                retry_after=random.randint(2, 6),
            )
        self.open += 1
        SSE_STREAMS_OPEN.inc()

    def release(self) -> None:
        self.open -= 1
        SSE_STREAMS_OPEN.dec()


@dataclass(frozen=True, slots=True)
class TileJob:
    order: int
    tile_id: int


def message(payload: dict[str, Any]) -> ServerSentEvent:
    return ServerSentEvent(data=dumps(payload).decode(), sep="\n")


async def tile_messages(
    metadata: dict[str, Any],
    jobs: Sequence[TileJob],
    compute: Callable[[TileJob], Awaitable[dict[str, Any]]],
    *,
    concurrency: int,
) -> AsyncIterator[dict[str, Any]]:
    """metadata, then one message per tile as each finishes, then `complete`.

    Closing the generator (client gone) cancels every tile still running or waiting.
    """
    yield {"type": "metadata", "dashboard": metadata}
    limit = asyncio.Semaphore(concurrency)

    async def run(job: TileJob) -> dict[str, Any]:
        async with limit:
            try:
                return {"type": "tile", "order": job.order, "tile": await compute(job)}
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - one tile's failure is reported, not fatal
                return {"type": "error", "tile_id": job.tile_id, "error": str(exc) or type(exc).__name__}

    tasks = [asyncio.ensure_future(run(job)) for job in jobs]
    try:
        for finished in asyncio.as_completed(tasks):
            yield await finished
        yield {"type": "complete"}
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def event_stream(
    messages: AsyncIterator[dict[str, Any]], on_close: Callable[[], None] | None = None
) -> EventSourceResponse:
    async def encoded() -> AsyncIterator[ServerSentEvent]:
        try:
            async for payload in messages:
                yield message(payload)
        finally:
            if on_close is not None:
                on_close()

    return EventSourceResponse(
        encoded(),
        ping=KEEPALIVE_SECONDS,
        sep="\n",
        headers={"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"},
        ping_message_factory=lambda: ServerSentEvent(comment="keepalive", sep="\n"),
    )
