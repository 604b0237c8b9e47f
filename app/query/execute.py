"""Execute: the only module of the engine that talks to the database.

Statements run on the connection handed in (whose session has the configured `statement_timeout`),
and `fetch_side_by_side` runs shares of one query on spare connections of the same pool too.
Database errors caused by the query's input become PostHog-shaped 4xx errors; a statement timeout
becomes a 504 `query_timeout`, never a hung request or a bare 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, QueuePool, Row, String, func, literal, select, text
from sqlalchemy import exc as sa_errors
from sqlalchemy.ext.asyncio import AsyncConnection

from app.errors import APIError, ValidationError
from app.models.actions import Action
from app.query.actions import ActionDef, action_from_json
from app.query.sql import EVENTS


class QueryTimeout(APIError):
    status_code = 504
    type = "server_error"
    code = "query_timeout"
    default_detail = (
        "The query took too long and was stopped. Narrow the date range or filters and try again."
    )


_INPUT_ERRORS = {
    "2201B": ("Invalid regular expression.", "invalid_regex"),
    "22P02": ("A value has an invalid format.", "invalid_input"),
    "22003": ("A value is out of range.", "invalid_input"),
    "22008": ("A date or time is out of range.", "invalid_input"),
    "22021": ("Text may not contain NUL characters or invalid byte sequences.", "invalid_input"),
    "2201E": ("Invalid argument for a logarithm.", "invalid_input"),
    "22012": ("Division by zero.", "invalid_input"),
    "54001": ("The query is too complex.", "invalid_input"),
}


def _sqlstate(exc: sa_errors.DBAPIError) -> str | None:
    orig = exc.orig
    if orig is None:
        return None
    state = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
    if state is None and orig.__cause__ is not None:
        state = getattr(orig.__cause__, "sqlstate", None)
    return str(state) if state else None


def translate(exc: sa_errors.DBAPIError) -> APIError | None:
    state = _sqlstate(exc)
    if state == "57014":
        return QueryTimeout()
    if state in _INPUT_ERRORS:
        detail, code = _INPUT_ERRORS[state]
        return ValidationError(detail, code=code)
    return None


async def fetch_all(connection: AsyncConnection, statement: Executable) -> Sequence[Row[Any]]:
    try:
        result = await connection.execute(statement)
        return result.all()
    except sa_errors.DBAPIError as exc:
        if (error := translate(exc)) is not None:
            raise error from None
        raise


SORT_MEMORY = "64MB"
# Planner settings for the rest of a query's transaction (`set_config(..., is_local => true)`):
# - JIT compiles each statement for 30 ms to several hundred ms and never pays that back on
#   statements of a few hundred milliseconds over index-only scans;
# - cheaper parallel setup lets the planner split a large scan across workers;
# - enough memory that hash aggregates over (person, period) pairs stay in memory;
# - events pages are cached (RAM or SSD): with the default random_page_cost of 4 the planner reads
#   the whole table sequentially rather than the time range's pages through the index;
# - asyncpg prepares every statement: after five runs Postgres may switch to a generic plan that
#   ignores the bound dates and arrays, while planning anew costs a millisecond or two.
QUERY_SETTINGS = {
    "plan_cache_mode": "force_custom_plan",
    "jit": "off",
    "parallel_setup_cost": "100",
    "parallel_tuple_cost": "0.01",
    "work_mem": "32MB",
    "random_page_cost": "1.1",
}


async def tune_session(connection: AsyncConnection) -> None:
    """Apply `QUERY_SETTINGS` to the current transaction, in one round trip."""
    settings = [func.set_config(name, value, True) for name, value in QUERY_SETTINGS.items()]
    await connection.execute(select(*settings))


async def use_sort_memory(connection: AsyncConnection) -> None:
    """Raise `work_mem` for the rest of this transaction: funnel and path statements sort and
    window every matching event, retention hashes every actor, and spilling those to disk costs
    more than the memory."""
    await connection.execute(select(func.set_config("work_mem", SORT_MEMORY, True)))


# How many shares `fetch_side_by_side` splits work into: the cores Postgres has to run them on (this
# service runs beside its database).
SHARES = max(1, min(4, os.cpu_count() or 1))


async def fetch_side_by_side(
    connection: AsyncConnection, statements: Sequence[Executable]
) -> list[Sequence[Row[Any]]]:
    """Each statement's rows, the statements run at the same time: the first on `connection`, each other
    on a connection of its own from the same pool, with this query's settings. For work Postgres can't
    hand to its parallel workers (window functions run in one process), split into disjoint shares.

    A query never waits for the pool, which other queries hold while they wait too: when no connection
    is spare, the rest run on `connection` after the first. Shares run side by side in one process
    each (parallel workers of their own would only compete with the other shares); one after another
    they keep Postgres' parallel workers. Shares read their own snapshots; split by actor, each
    share's answer is consistent in itself."""
    first, *rest = statements
    async with contextlib.AsyncExitStack() as stack:
        extras: list[AsyncConnection] = []
        for _ in rest:
            if not _has_spare_connection(connection):
                break
            extra = await stack.enter_async_context(connection.engine.connect())
            await tune_session(extra)
            await use_sort_memory(extra)
            extras.append(extra)
        for used in (connection, *extras) if extras else ():
            await used.execute(select(func.set_config("max_parallel_workers_per_gather", "0", True)))
        tasks = [asyncio.ensure_future(fetch_all(connection, first))]
        tasks += [asyncio.ensure_future(fetch_all(extra, s)) for extra, s in zip(extras, rest, strict=False)]
        try:
            results = list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()  # a cancelled statement is cancelled in Postgres too (asyncpg)
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        results.extend([await fetch_all(connection, statement) for statement in rest[len(extras) :]])
    return results


def _has_spare_connection(connection: AsyncConnection) -> bool:
    """Whether the pool has a connection to give at once (idle, or not opened yet)."""
    pool = connection.engine.sync_engine.pool
    return isinstance(pool, QueuePool) and pool.checkedout() < pool.size()


async def first_event_time(connection: AsyncConnection, team_id: int) -> datetime | None:
    """For `date_from: "all"`: when the project's first event happened."""
    rows = await fetch_all(
        connection, select(func.min(EVENTS.c.timestamp)).where(EVENTS.c.team_id == team_id)
    )
    value = rows[0][0] if rows else None
    return value if isinstance(value, datetime) else None


# The distinct names by a loose index scan: one descent of the (team, event, timestamp) index per
# name, however many events each has.
_EVENT_NAMES = text(
    "WITH RECURSIVE names(event) AS ("
    " (SELECT event FROM events WHERE team_id = :team_id ORDER BY event LIMIT 1)"
    " UNION ALL SELECT (SELECT e.event FROM events AS e WHERE e.team_id = :team_id AND e.event > names.event"
    " ORDER BY e.event LIMIT 1) FROM names WHERE names.event IS NOT NULL)"
    " SELECT event FROM names WHERE event IS NOT NULL LIMIT :limit"
)
# Past this many names, one index range per name stops paying: the caller scans without them.
MAX_EVENT_NAMES = 1000


async def event_names(connection: AsyncConnection, team_id: int) -> tuple[str, ...] | None:
    """Every event name the project has (None beyond `MAX_EVENT_NAMES`)."""
    rows = await fetch_all(connection, _EVENT_NAMES.bindparams(team_id=team_id, limit=MAX_EVENT_NAMES + 1))
    return None if len(rows) > MAX_EVENT_NAMES else tuple(row[0] for row in rows)


async def load_actions(connection: AsyncConnection, team_id: int, ids: Iterable[int]) -> dict[int, ActionDef]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    statement = select(Action.id, Action.name, Action.steps).where(
        Action.team_id == team_id, Action.id.in_(wanted), Action.deleted.is_(False)
    )
    return {
        row.id: action_from_json(row.id, row.name, row.steps or [])
        for row in await fetch_all(connection, statement)
    }


async def check_regexes(connection: AsyncConnection, patterns: Iterable[str]) -> None:
    """Compile every user regex once in Postgres, so a bad one is a 400 even when no row is scanned."""
    for pattern in dict.fromkeys(patterns):
        try:
            await connection.execute(select(literal("", String).bool_op("~")(literal(pattern, String))))
        except sa_errors.DBAPIError as exc:
            if _sqlstate(exc) == "2201B":
                raise ValidationError(
                    f"Invalid regular expression: {pattern[:100]!r}.", code="invalid_regex", attr="properties"
                ) from None
            raise
