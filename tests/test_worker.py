"""A real arq worker process picks up jobs enqueued by the API's queue client."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from app.workers.queue import enqueue


async def test_worker_runs_enqueued_job(app: FastAPI, arq_worker) -> None:
    job = await enqueue(app.state.queue, "ping", job_id="ping-test")
    assert job is not None
    result = await asyncio.wait_for(job.result(poll_delay=0.1), timeout=30)
    assert result["pong"] is True
    duplicate = await enqueue(app.state.queue, "ping", job_id="ping-test")
    assert duplicate is None, "a job id is enqueued at most once while its result is kept"
