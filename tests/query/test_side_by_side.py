"""`execute.fetch_side_by_side`: statements run at the same time on connections of their own, with the
query's settings; one at a time on the query's connection when the pool has none to spare; a failure
is the failing statement's own error, and every connection goes back to the pool."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import create_engine
from app.errors import ValidationError
from app.query import execute
from app.settings import Settings

BACKEND = text(
    "SELECT pg_backend_pid() AS pid, current_setting('work_mem') AS work_mem, "
    "current_setting('max_parallel_workers_per_gather') AS workers, current_setting('jit') AS jit"
)


async def test_statements_run_on_their_own_connections_with_the_query_settings(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await execute.tune_session(connection)
        results = await execute.fetch_side_by_side(connection, [BACKEND, BACKEND, BACKEND])
        own = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    rows = [result[0] for result in results]
    assert rows[0].pid == own
    assert len({row.pid for row in rows}) == 3
    assert {row.workers for row in rows} == {"0"}  # one process per share
    assert {(row.work_mem, row.jit) for row in rows[1:]} == {(execute.SORT_MEMORY, "off")}


async def test_without_a_spare_connection_they_run_one_after_another(test_settings: Settings) -> None:
    small = create_engine(test_settings, pool_size=1)  # two connections in all
    try:
        async with small.connect() as connection, small.connect() as other:
            await other.execute(text("SELECT 1"))
            results = await execute.fetch_side_by_side(connection, [BACKEND, BACKEND])
            own = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert [result[0].pid for result in results] == [own, own]
        assert {result[0].workers for result in results} != {"0"}  # one after another: workers kept
    finally:
        await small.dispose()


async def test_a_failing_statement_raises_its_own_error_and_returns_every_connection(
    engine: AsyncEngine,
) -> None:
    pool = engine.sync_engine.pool
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
        before = pool.checkedout()
        started = time.monotonic()
        with pytest.raises(ValidationError):  # 1/0 is the query's input error, not an ExceptionGroup
            await execute.fetch_side_by_side(connection, [text("SELECT pg_sleep(30)"), text("SELECT 1 / 0")])
        # The sleeping share was cancelled, not waited for; no connection stays out (the cancelled
        # one is discarded, so at most the caller's).
        assert time.monotonic() - started < 10
        assert pool.checkedout() <= before
