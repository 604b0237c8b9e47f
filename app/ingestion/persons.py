"""Person resolution for one batch, in a transaction of its own that commits before the events'.

- Every distinct id resolves to a person; an unseen one creates a person (created at its first event).
- `$identify` (`$anon_distinct_id`) and `$create_alias` (`alias`) join the other id's person into the
  event's person: the other id is linked to it, or, when both ids already have different persons and
  the other one is not identified, the two persons merge (the event's person keeps its properties
  where both have a key; the other's distinct ids and events move over). Illegal ids ("null",
  "undefined", …) never merge, as in PostHog.
- `$set` / `$set_once` / `$unset` are folded per person (`person_updates`) and applied in one statement.

Concurrency: batches of one project hold a shared advisory lock (`project_lock`, the session's, from
before their persons to after their events commit), so they proceed side by side (linking a new id
to a person, as most `$identify`s do, is safe there). Only a real merge deletes a person and rewrites
events: a batch that needs one raises `NeedsExclusiveLock` and is rerun under the exclusive lock, so
no batch can ever stamp events with a person that a merge is deleting. Committing the persons first
keeps their new rows locked only briefly: a concurrent batch with the same new ids waits for that
short transaction, not for the other's whole events write. When a concurrent batch links one of the
batch's new ids first (an `$identify` racing the anonymous id's first event), the ids planned with it
join that batch's person instead; only when that would merge two stored persons is the batch rerun
exclusively. Rows are inserted and locked in sorted order.
"""

from __future__ import annotations

import uuid as uuid_lib
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import orjson
import uuid_utils.compat as uuid7

from app.ingestion.events import IDENTIFY, CapturedEvent, jsonb_text
from app.ingestion.person_updates import PersonUpdate

# pg_advisory_lock(classid, objid): the class keeps our locks apart from anyone else's.
PERSONS_LOCK_CLASS = 0x5045  # "PE"
# One primary-key probe per id, whatever the statistics say. A join with the id list was planned,
# while the table's statistics were older than its rows (a fresh install's first import), as a hash
# join over all the project's ids: a scan growing with every batch (/batch: 4.7k -> 5.3k events/s).
LOAD_LINKS = (
    "SELECT t.d, (SELECT p.person_id FROM person_distinct_ids AS p "
    "WHERE p.team_id = $1 AND p.distinct_id = t.d) AS person_id FROM unnest($2::text[]) AS t(d)"
)
ILLEGAL_IDS = frozenset(
    {
        "anonymous",
        "guest",
        "distinctid",
        "distinct_id",
        "id",
        "not_authenticated",
        "email",
        "undefined",
        "true",
        "false",
        "null",
        "none",
        "nan",
        "0",
        "[object object]",
    }
)

Connection = Any  # asyncpg.Connection (asyncpg ships no type information)


class NeedsExclusiveLock(Exception):
    """The batch must be rerun (in a new transaction) under the project's exclusive person lock."""


@asynccontextmanager
async def project_lock(db: Connection, team_id: int, *, exclusive: bool) -> AsyncIterator[None]:
    """The project's person lock, held by the session (outside any transaction) for the body."""
    mode = "" if exclusive else "_shared"
    await db.execute(f"SELECT pg_advisory_lock{mode}($1, $2)", PERSONS_LOCK_CLASS, team_id)
    try:
        yield
    finally:
        try:
            await db.execute(f"SELECT pg_advisory_unlock{mode}($1, $2)", PERSONS_LOCK_CLASS, team_id)
        except BaseException:
            db.terminate()  # a pooled session must never keep the lock: ending it releases the lock
            raise


class PersonResolver:
    """Resolves one batch: `mapping` ends as distinct id → person uuid for every event.

    New links and persons are planned first and written at the end, all links in one statement in
    distinct-id order (so concurrent batches take their row locks in the same order: no deadlock).
    """

    def __init__(self, connection: Connection, team_id: int, *, exclusive: bool = False) -> None:
        self.db = connection
        self.team_id = team_id
        self.exclusive = exclusive
        self.mapping: dict[str, uuid_lib.UUID] = {}
        self.identified: dict[uuid_lib.UUID, bool] = {}
        self.new_links: set[str] = set()  # distinct ids whose mapping is not stored yet
        self.new_persons: dict[uuid_lib.UUID, datetime] = {}  # not stored yet, with their creation time
        self._custom_plans = False

    async def resolve(self, events: list[CapturedEvent]) -> dict[str, uuid_lib.UUID]:
        merges = [
            (e.distinct_id, other, e.timestamp)
            for e in events
            if (other := e.merge_from) and other != e.distinct_id
        ]
        await self._load({e.distinct_id for e in events} | {other for _, other, _ in merges})
        for into, other, at in merges:
            await self._join(into, other, at)
        for event in sorted(events, key=lambda e: e.timestamp):
            if event.distinct_id not in self.mapping:
                self._plan_person([event.distinct_id], event.timestamp)
        await self._write_links()
        updates = self._updates(events)
        await self._insert_persons(updates)
        await self._apply({p: u for p, u in updates.items() if p not in self.new_persons})
        return self.mapping

    async def _load(self, ids: Iterable[str]) -> None:
        rows = await self.db.fetch(LOAD_LINKS, self.team_id, list(ids))
        self.mapping.update({row["d"]: row["person_id"] for row in rows if row["person_id"] is not None})

    async def _is_identified(self, person: uuid_lib.UUID) -> bool:
        if person not in self.identified:
            value = await self.db.fetchval(
                "SELECT is_identified FROM persons WHERE team_id = $1 AND uuid = $2", self.team_id, person
            )
            self.identified[person] = bool(value)
        return self.identified[person]

    async def _plan_for_arguments(self) -> None:
        """The transaction's next statements join the batch's ids with the project's persons and events.
        asyncpg prepares every statement, and Postgres reuses a generic plan made at the sixth run: on a
        fresh install that was made while the tables were small, and it kept reading every person of
        the project (updates of ~5 persons over a 100k-event import: median 1.6 ms, 0.55 ms planned
        for their arguments)."""
        if not self._custom_plans:
            await self.db.execute("SET LOCAL plan_cache_mode = force_custom_plan")
            self._custom_plans = True

    def _plan_person(self, distinct_ids: list[str], at: datetime) -> None:
        person = uuid7.uuid7()
        self.new_persons[person] = at
        for distinct_id in distinct_ids:
            self._link(distinct_id, person)

    def _link(self, distinct_id: str, person: uuid_lib.UUID) -> None:
        self.mapping[distinct_id] = person
        self.new_links.add(distinct_id)

    def _repoint(self, old: uuid_lib.UUID, new: uuid_lib.UUID) -> list[str]:
        """`old` was only planned: its ids simply link to `new` instead. Returns them, sorted."""
        moved = sorted(d for d, p in self.mapping.items() if p == old)
        for distinct_id in moved:
            self._link(distinct_id, new)
        self.new_persons.pop(old)
        return moved

    async def _join(self, into_id: str, other_id: str, at: datetime) -> None:
        if into_id.lower() in ILLEGAL_IDS or other_id.lower() in ILLEGAL_IDS:
            return
        into, other = self.mapping.get(into_id), self.mapping.get(other_id)
        if into is None and other is None:
            self._plan_person([into_id, other_id], at)
        elif into is None:
            assert other is not None
            self._link(into_id, other)
        elif other is None:
            self._link(other_id, into)
        elif into == other:
            return
        elif other in self.new_persons:
            self._repoint(other, into)
        elif into in self.new_persons:
            self._repoint(into, other)
        elif not await self._is_identified(other):
            if not self.exclusive:
                raise NeedsExclusiveLock
            await self._merge(into, other)

    async def _merge(self, into: uuid_lib.UUID, other: uuid_lib.UUID) -> None:
        """Two stored persons become one (exclusive lock only: it deletes `other`)."""
        team = self.team_id
        await self._plan_for_arguments()
        await self.db.execute(
            "UPDATE persons AS p SET properties = o.properties || p.properties, "
            "created_at = LEAST(p.created_at, o.created_at), version = p.version + 1 "
            "FROM persons AS o WHERE p.team_id = $1 AND p.uuid = $2 AND o.team_id = $1 AND o.uuid = $3",
            team,
            into,
            other,
        )
        await self.db.execute(
            "UPDATE person_distinct_ids SET person_id = $2 WHERE team_id = $1 AND person_id = $3",
            team,
            into,
            other,
        )
        await self.db.execute(
            "UPDATE events SET person_id = $2 WHERE team_id = $1 AND person_id = $3", team, into, other
        )
        await self.db.execute("DELETE FROM persons WHERE team_id = $1 AND uuid = $2", team, other)
        self.mapping = {d: into if p == other else p for d, p in self.mapping.items()}

    async def _write_links(self) -> None:
        """All new links in one sorted statement. An id that a concurrent batch linked first takes
        that batch's person, with the ids this batch planned with it (`_join_stored`); only a merge
        of stored persons reruns the batch exclusively."""
        if not self.new_links:
            return
        ids = sorted(self.new_links)
        linked = await self.db.fetch(
            "INSERT INTO person_distinct_ids (team_id, distinct_id, person_id) "
            "SELECT $1, d, p FROM unnest($2::text[], $3::uuid[]) AS t(d, p) ORDER BY d "
            "ON CONFLICT (team_id, distinct_id) DO NOTHING RETURNING distinct_id",
            self.team_id,
            ids,
            [self.mapping[d] for d in ids],
        )
        if len(linked) == len(ids):
            return
        lost = set(ids) - {row["distinct_id"] for row in linked}
        planned = {distinct_id: self.mapping[distinct_id] for distinct_id in lost}
        if not set(planned.values()) <= self.new_persons.keys():
            raise NeedsExclusiveLock  # we had linked it to a stored person: that is a merge now
        await self._load(lost)
        if any(self.mapping[d] == person for d, person in planned.items()):
            raise NeedsExclusiveLock  # the winning link isn't visible (can't happen under READ COMMITTED)
        for person in set(planned.values()):
            await self._join_stored(person, {self.mapping[d] for d, p in planned.items() if p == person})

    async def _join_stored(self, person: uuid_lib.UUID, stored: set[uuid_lib.UUID]) -> None:
        """A planned person some of whose ids a concurrent batch linked first, all to one stored
        person: its other ids join that person, as they would have had that batch committed before
        this one read them. Two stored persons would be a merge (rerun exclusively)."""
        if len(stored) != 1:
            raise NeedsExclusiveLock
        (target,) = stored
        if moved := self._repoint(person, target):  # their links were just written: rewrite them
            await self.db.execute(
                "UPDATE person_distinct_ids SET person_id = $2 "
                "WHERE team_id = $1 AND distinct_id = ANY($3::text[])",
                self.team_id,
                target,
                moved,
            )

    def _updates(self, events: list[CapturedEvent]) -> dict[uuid_lib.UUID, PersonUpdate]:
        """Each person's updates folded in event order (mapping is complete by now)."""
        updates: dict[uuid_lib.UUID, PersonUpdate] = {}
        for event in events:
            set_, set_once, unset = event.person_updates()
            identify = event.event == IDENTIFY
            if set_ or set_once or unset or identify:
                update = updates.setdefault(self.mapping[event.distinct_id], PersonUpdate())
                update.apply(set_, set_once, unset)
                update.identified |= identify
        return updates

    async def _insert_persons(self, updates: dict[uuid_lib.UUID, PersonUpdate]) -> None:
        if not self.new_persons:
            return
        people = list(self.new_persons)
        initial = [updates.get(p, PersonUpdate()) for p in people]
        await self.db.execute(
            "INSERT INTO persons (team_id, uuid, properties, is_identified, created_at) "
            "SELECT $1, u, p::jsonb, i, c FROM unnest($2::uuid[], $3::text[], $4::bool[], $5::timestamptz[]) "
            "AS t(u, p, i, c)",
            self.team_id,
            people,
            [jsonb_text(update.applied_to({})) for update in initial],
            [update.identified for update in initial],
            [self.new_persons[p] for p in people],
        )

    async def _apply(self, updates: dict[uuid_lib.UUID, PersonUpdate]) -> None:
        """One statement for every existing person the batch changes; unchanged rows aren't rewritten."""
        people = sorted(updates)
        if not people:
            return
        await self._plan_for_arguments()
        # Locked in uuid order first, so two batches updating the same persons never deadlock.
        await self.db.execute(
            "SELECT 1 FROM unnest($2::uuid[]) AS t(u) JOIN persons AS p ON p.team_id = $1 AND p.uuid = t.u "
            "ORDER BY p.uuid FOR UPDATE OF p",
            self.team_id,
            people,
        )
        await self.db.execute(
            UPDATE_PERSONS,
            self.team_id,
            people,
            [jsonb_text(updates[p].once) for p in people],
            [jsonb_text(updates[p].set_values()) for p in people],
            [orjson.dumps(updates[p].removed_keys()).decode() for p in people],
            [updates[p].identified for p in people],
        )


# `(once || stored) || assigned - removed`: see person_updates for why this equals applying the events.
# Computed from `p.properties`, the row being updated: under concurrent updates Postgres re-evaluates the
# expressions on the newest version of the row, so no update is lost.
NEW_PROPERTIES = """((t.once::jsonb || p.properties) || t.assigned::jsonb)
    - ARRAY(SELECT jsonb_array_elements_text(t.removed::jsonb))"""
UPDATE_PERSONS = f"""
UPDATE persons AS p
SET properties = {NEW_PROPERTIES}, is_identified = p.is_identified OR t.identified, version = p.version + 1
FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::bool[])
    AS t(uuid, once, assigned, removed, identified)
WHERE p.team_id = $1 AND p.uuid = t.uuid
    AND ({NEW_PROPERTIES} IS DISTINCT FROM p.properties OR (t.identified AND NOT p.is_identified))
"""  # noqa: S608 - a constant expression, no input
