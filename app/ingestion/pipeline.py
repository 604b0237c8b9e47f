"""Ingesting a batch: its persons, then its events, then definitions, each a transaction.

`ingest` returns only after the events' transaction committed (Postgres' default synchronous commit),
so a request acknowledged with 200 is durable; if anything fails before that, none of the batch's
events is stored and the caller answers with an error the SDK retries. Persons committed for events
that then failed stay, as they would in PostHog: the retry finds them and links to them.
"""

from __future__ import annotations

import logging
import uuid as uuid_lib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asyncpg import exceptions as pg_errors
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import raw_connection
from app.ingestion import definitions
from app.ingestion.definitions import DefinitionsCache
from app.ingestion.events import CapturedEvent
from app.ingestion.persons import NeedsExclusiveLock, PersonResolver, project_lock
from app.ingestion.writer import AlreadyStored, copy_events, insert_new_events

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class IngestResult:
    received: int
    stored: int  # the rest were already stored (same uuid): retries

    @property
    def duplicates(self) -> int:
        return self.received - self.stored


class Ingestor:
    """One per process: holds the engine and the definitions cache."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.definitions = DefinitionsCache()

    async def ingest(
        self, team_id: int, events: list[CapturedEvent], *, committing: Callable[[], None] = lambda: None
    ) -> IngestResult:
        """`committing` is called once only the commit is left to do (group_commit hands its turn on)."""
        if not events:
            return IngestResult(0, 0)
        # The transaction is asyncpg's own, so SQLAlchemy never begins one on this connection.
        async with raw_connection(self.engine) as raw:
            stored = await self._write(raw, team_id, events, committing)
            await self._upkeep(raw, team_id, events)
        return IngestResult(len(events), stored)

    async def _write(
        self, raw: Any, team_id: int, events: list[CapturedEvent], committing: Callable[[], None]
    ) -> int:
        """Persons, then events, under the project's person lock; rerun exclusively when a real merge
        needs it, and again when Postgres broke a deadlock (a rerun finds what an attempt committed)."""
        exclusive = False
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                async with project_lock(raw, team_id, exclusive=exclusive):
                    async with raw.transaction():
                        persons = await PersonResolver(raw, team_id, exclusive=exclusive).resolve(events)
                    return await self._store(raw, team_id, events, persons, committing)
            except NeedsExclusiveLock:
                exclusive = True
            except pg_errors.DeadlockDetectedError:
                if attempt == MAX_ATTEMPTS:
                    raise
                logger.warning("ingestion deadlock for project %s, retrying", team_id)
        raise RuntimeError("unreachable: every attempt returns or raises")

    async def _store(
        self,
        raw: Any,
        team_id: int,
        events: list[CapturedEvent],
        persons: dict[str, uuid_lib.UUID],
        committing: Callable[[], None],
    ) -> int:
        try:
            async with raw.transaction():
                stored = await copy_events(raw, team_id, events, persons)
                committing()
        except AlreadyStored:  # an SDK's retry: write again, skipping what is stored
            async with raw.transaction():
                stored = await insert_new_events(raw, team_id, events, persons)
                committing()
        return stored

    async def _upkeep(self, raw: Any, team_id: int, events: list[CapturedEvent]) -> None:
        rows = self.definitions.pending(team_id, events)
        if rows.empty:
            return
        try:
            async with raw.transaction():
                await definitions.upsert(raw, team_id, rows)
        except Exception:  # derived data: the events are stored; the next batch writes these again
            logger.exception("definitions upkeep failed for project %s", team_id)
            return
        self.definitions.written(team_id, rows)
