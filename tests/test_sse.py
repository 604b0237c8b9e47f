"""Tile streaming mechanics: order of messages, per-tile errors, cancellation on close, the cap."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.errors import ServiceUnavailable
from app.sse import StreamCapacity, TileJob, message, tile_messages


async def test_tiles_arrive_as_ready_between_metadata_and_complete() -> None:
    delays = {0: 0.2, 1: 0.0, 2: 0.1}

    async def compute(job: TileJob) -> dict[str, Any]:
        await asyncio.sleep(delays[job.order])
        return {"id": job.tile_id}

    jobs = [TileJob(order=i, tile_id=100 + i) for i in range(3)]
    received = [m async for m in tile_messages({"id": 1}, jobs, compute, concurrency=3)]
    assert received[0] == {"type": "metadata", "dashboard": {"id": 1}}
    assert [m["order"] for m in received[1:-1]] == [1, 2, 0]
    assert received[-1] == {"type": "complete"}


async def test_concurrency_is_bounded() -> None:
    running = 0
    peak = 0

    async def compute(job: TileJob) -> dict[str, Any]:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.02)
        running -= 1
        return {}

    jobs = [TileJob(order=i, tile_id=i) for i in range(10)]
    assert len([m async for m in tile_messages({}, jobs, compute, concurrency=3)]) == 12
    assert peak == 3


async def test_a_failing_tile_is_an_error_message() -> None:
    async def compute(job: TileJob) -> dict[str, Any]:
        if job.tile_id == 2:
            raise ValueError("bad query")
        return {"id": job.tile_id}

    received = [m async for m in tile_messages({}, [TileJob(0, 1), TileJob(1, 2)], compute, concurrency=1)]
    assert {"type": "error", "tile_id": 2, "error": "bad query"} in received
    assert received[-1] == {"type": "complete"}


async def test_closing_the_stream_cancels_pending_tiles() -> None:
    cancelled: list[int] = []

    async def compute(job: TileJob) -> dict[str, Any]:
        try:
            await asyncio.sleep(0 if job.order == 0 else 30)
        except asyncio.CancelledError:
            cancelled.append(job.tile_id)
            raise
        return {}

    stream = tile_messages({}, [TileJob(i, i) for i in range(4)], compute, concurrency=4)
    assert (await anext(stream))["type"] == "metadata"
    assert (await anext(stream))["order"] == 0
    await stream.aclose()
    assert sorted(cancelled) == [1, 2, 3]


def test_capacity_rejects_past_the_limit() -> None:
    capacity = StreamCapacity(limit=2)
    capacity.reserve()
    capacity.reserve()
    with pytest.raises(ServiceUnavailable) as caught:
        capacity.reserve()
    assert int(caught.value.headers["Retry-After"]) >= 2
    capacity.release()
    capacity.reserve()


def test_wire_format_is_a_single_data_line() -> None:
    encoded = message({"type": "complete"}).encode()
    assert encoded == b'data: {"type":"complete"}\n\n'
