"""Server-Sent Events for dashboard tiles, in PostHog's wire format (`data: <json>` + blank line).

Beyond PostHog: tiles are computed concurrently (bounded) and each is sent as soon as it is ready
(its `order` places it), keepalive comments hold proxies open, a client disconnect cancels the
tiles still pending, and each process caps how many streams it holds open (503 + Retry-After).

`EventStream` is a small ASGI response rather than sse-starlette's: one task for the next message and
one waiting for the disconnect (sse-starlette runs four in an anyio task group, plus locks and cancel
scopes per send), which matters for a thousand idle streams and for the per-message cost.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from app.errors import ServiceUnavailable
from app.observability import SSE_STREAMS_OPEN
from app.responses import dumps

KEEPALIVE_SECONDS = 15
KEEPALIVE = b": keepalive\n\n"


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


def message(payload: dict[str, Any]) -> bytes:
    """One event: a single `data:` line (JSON never holds a raw newline) and the blank line."""
    return b"data: " + dumps(payload) + b"\n\n"


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


class EventStream(Response):
    """`text/event-stream` of `messages`; `on_close` runs however the stream ends."""

    media_type = "text/event-stream"

    def __init__(
        self, messages: AsyncGenerator[dict[str, Any]], on_close: Callable[[], None] | None = None
    ) -> None:
        # Not Response.__init__: without a body, init_headers leaves Content-Length out.
        self.status_code, self.background = 200, None
        self.init_headers({"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"})
        self.messages = messages
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            if scope["method"] != "HEAD":
                await self._pump(receive, send)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await self.messages.aclose()
            if self.on_close is not None:
                self.on_close()

    async def _pump(self, receive: Receive, send: Send) -> None:
        """Send each message as it comes, a keepalive after each quiet period; stop on disconnect
        (cancelling the message task cancels the work it waits for)."""
        disconnected = asyncio.ensure_future(_disconnect(receive))
        upcoming = asyncio.ensure_future(anext(self.messages))
        try:
            while True:
                await asyncio.wait(
                    (upcoming, disconnected), timeout=KEEPALIVE_SECONDS, return_when=asyncio.FIRST_COMPLETED
                )
                if disconnected.done():
                    return
                if not upcoming.done():
                    await send({"type": "http.response.body", "body": KEEPALIVE, "more_body": True})
                    continue
                try:
                    payload = upcoming.result()
                except StopAsyncIteration:
                    return
                upcoming = asyncio.ensure_future(anext(self.messages))
                await send({"type": "http.response.body", "body": message(payload), "more_body": True})
        finally:
            for task in (upcoming, disconnected):
                task.cancel()
            with suppress(asyncio.CancelledError, StopAsyncIteration):
                await upcoming


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
