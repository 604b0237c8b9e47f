"""Task functions run by the arq worker pool."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text


async def ping(ctx: dict[str, Any]) -> dict[str, Any]:
    """Proves a worker is alive and can reach Postgres (used by health checks and tests)."""
    async with ctx["engine"].connect() as connection:
        server_time = (await connection.execute(text("SELECT now()"))).scalar_one()
    return {"pong": True, "database_time": server_time.isoformat()}


TASKS: list[Any] = [ping]
