"""Writing a batch of events: binary COPY, idempotent on `(team_id, uuid)`.

COPY is the cheapest write Postgres has (measured side by side on the same 500-event groups, CPU per
event: binary COPY 20.7 µs in Postgres + 6.0 µs in Python, `INSERT … FROM jsonb_to_recordset … ON
CONFLICT` 31.0 + 4.4, `unnest` of bound arrays 24.2 + 7.5), but it cannot skip a row whose uuid is
already stored. Such a row is an SDK's retry, which is rare: it fails the COPY (`AlreadyStored`), and
the caller writes the batch again, in a new transaction, with `insert_new_events`, which skips it.
"""

from __future__ import annotations

import uuid as uuid_lib
from typing import Any

from asyncpg import exceptions as pg_errors

from app.ingestion.events import CapturedEvent, jsonb_text

COLUMNS = (
    "uuid", "team_id", "event", "distinct_id", "person_id", "timestamp", "properties", "elements_chain",
    "$session_id",
)  # fmt: skip
INSERT_NEW_EVENTS = """
INSERT INTO events
    (uuid, team_id, event, distinct_id, person_id, timestamp, properties, elements_chain, "$session_id")
SELECT u, $1, e, d, p, t, pr, ec, s
FROM jsonb_to_recordset($2::jsonb)
    AS x(u uuid, e text, d text, p uuid, t timestamptz, pr jsonb, ec text, s text)
ON CONFLICT (team_id, uuid) DO NOTHING
"""


class UnstorableValue(pg_errors.DataError):  # type: ignore[misc]  # asyncpg ships no types
    """A value the driver cannot encode for COPY; handled as Postgres' own refusal of a value (400)."""


class AlreadyStored(Exception):
    """An event of the batch is stored already (its transaction is aborted): use `insert_new_events`."""


async def copy_events(
    connection: Any, team_id: int, events: list[CapturedEvent], persons: dict[str, uuid_lib.UUID]
) -> int:
    """Stores every event (inside a transaction); raises `AlreadyStored` if one's uuid is taken."""
    rows = [
        (e.uuid, team_id, e.event, e.distinct_id, persons[e.distinct_id], e.timestamp, e.properties_json(),
         e.elements_chain, e.session_id)
        for e in events
    ]  # fmt: skip
    try:
        await connection.copy_records_to_table("events", records=rows, columns=COLUMNS)
    except pg_errors.UniqueViolationError as exc:
        raise AlreadyStored from exc
    except (ValueError, TypeError, OverflowError) as exc:  # raised while encoding, before Postgres saw it
        raise UnstorableValue(str(exc)) from exc
    return len(rows)


async def insert_new_events(
    connection: Any, team_id: int, events: list[CapturedEvent], persons: dict[str, uuid_lib.UUID]
) -> int:
    """Stores the events not stored yet (one statement); returns how many were new."""
    rows = [
        {"u": e.uuid, "e": e.event, "d": e.distinct_id, "p": persons[e.distinct_id], "t": e.timestamp,
         "pr": e.properties, "ec": e.elements_chain, "s": e.session_id}
        for e in events
    ]  # fmt: skip
    status: str = await connection.execute(INSERT_NEW_EVENTS, team_id, jsonb_text(rows))
    return int(status.rsplit(" ", 1)[-1])
