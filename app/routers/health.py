"""`GET /_health`: 200 when Postgres and Redis answer, 503 naming the one that did not."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from sqlalchemy import text

from app.responses import JSONResponse
from app.schemas.generated.identity import Health

router = APIRouter(tags=["health"])
PROBE_TIMEOUT_SECONDS = 2.0


async def _probe_postgres(request: Request) -> str:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS), request.app.state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy, reported by name
        return f"error: {type(exc).__name__}"
    return "ok"


async def _probe_redis(request: Request) -> str:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            await request.app.state.redis.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy, reported by name
        return f"error: {type(exc).__name__}"
    return "ok"


@router.get("/_health", response_model=Health, responses={503: {"model": Health}})
async def health(request: Request) -> JSONResponse:
    postgres, redis = await asyncio.gather(_probe_postgres(request), _probe_redis(request))
    healthy = postgres == redis == "ok"
    body = Health(status="ok" if healthy else "unavailable", postgres=postgres, redis=redis)
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)
