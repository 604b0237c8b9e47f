"""Person resolution against real Postgres: creation, identify/alias merges, property updates, concurrency."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asyncpg.exceptions import DataError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import raw_connection
from app.ingestion.events import normalize_events
from app.ingestion.persons import LOAD_LINKS, PERSONS_LOCK_CLASS
from app.ingestion.pipeline import Ingestor
from tests.factories.identity import Team
from tests.ingestion.conftest import Stored
from tests.ingestion.test_person_updates import one_by_one

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


@pytest.fixture
def ingest(engine: AsyncEngine, team: Team) -> Any:
    ingestor = Ingestor(engine)

    async def run(*raw: dict[str, Any], team_id: int | None = None) -> None:
        await ingestor.ingest(
            team_id or team.id, normalize_events(list(raw), now=T0 + timedelta(days=1), sent_at=None)
        )

    return run


async def assert_consistent(stored: Stored, team_id: int) -> None:
    """Every event's person is its distinct id's person, and every person is someone's."""
    persons = await stored.persons(team_id)
    for row in await stored.events(team_id):
        assert row["person_id"] == persons[row["distinct_id"]]["uuid"], row
    assert await stored.count("persons", team_id) == len({p["uuid"] for p in persons.values()})


async def test_new_distinct_ids_create_persons_dated_by_their_first_event(
    ingest: Any, stored: Stored, team: Team
) -> None:
    await ingest(
        {"event": "a", "distinct_id": "d1", "timestamp": at(5)},
        {"event": "b", "distinct_id": "d1", "timestamp": at(1)},
        {"event": "c", "distinct_id": "d2", "timestamp": at(3), "properties": {"$set": {"plan": "pro"}}},
    )
    persons = await stored.persons(team.id)
    assert set(persons) == {"d1", "d2"}
    assert persons["d1"]["uuid"] != persons["d2"]["uuid"]
    assert persons["d1"]["created_at"] == T0 + timedelta(minutes=1)
    assert persons["d2"]["properties"] == {"plan": "pro"}
    await assert_consistent(stored, team.id)


async def test_identify_links_the_anonymous_id(ingest: Any, stored: Stored, team: Team) -> None:
    await ingest({"event": "$pageview", "distinct_id": "anon", "timestamp": at(0)})
    await ingest(
        {
            "event": "$identify",
            "distinct_id": "user@x",
            "timestamp": at(1),
            "properties": {"$anon_distinct_id": "anon", "$set": {"email": "user@x"}},
        },
    )
    persons = await stored.persons(team.id)
    assert persons["anon"]["uuid"] == persons["user@x"]["uuid"]
    assert persons["user@x"]["is_identified"] is True
    assert persons["user@x"]["properties"] == {"email": "user@x"}
    await assert_consistent(stored, team.id)


async def test_identify_merges_two_existing_persons(ingest: Any, stored: Stored, team: Team) -> None:
    await ingest(
        {
            "event": "seen",
            "distinct_id": "anon",
            "timestamp": at(0),
            "properties": {"$set": {"a": 1, "both": "anon"}},
        },
        {
            "event": "seen",
            "distinct_id": "user",
            "timestamp": at(2),
            "properties": {"$set": {"u": 1, "both": "user"}},
        },
    )
    before = await stored.persons(team.id)
    await ingest(
        {
            "event": "$identify",
            "distinct_id": "user",
            "timestamp": at(3),
            "properties": {"$anon_distinct_id": "anon"},
        }
    )
    persons = await stored.persons(team.id)
    assert persons["anon"]["uuid"] == persons["user"]["uuid"] == before["user"]["uuid"]
    assert persons["user"]["properties"] == {"a": 1, "u": 1, "both": "user"}
    assert persons["user"]["created_at"] == T0
    assert await stored.count("persons", team.id) == 1
    await assert_consistent(stored, team.id)


async def test_an_identified_person_is_never_merged_away(ingest: Any, stored: Stored, team: Team) -> None:
    await ingest(
        {"event": "$identify", "distinct_id": "alice", "properties": {"$anon_distinct_id": "a1"}},
        {"event": "$identify", "distinct_id": "bob", "properties": {"$anon_distinct_id": "b1"}},
    )
    await ingest({"event": "$identify", "distinct_id": "bob", "properties": {"$anon_distinct_id": "alice"}})
    persons = await stored.persons(team.id)
    assert persons["alice"]["uuid"] != persons["bob"]["uuid"]
    await assert_consistent(stored, team.id)


async def test_alias_links_the_new_id_to_the_previous_persons(
    ingest: Any, stored: Stored, team: Team
) -> None:
    await ingest({"event": "seen", "distinct_id": "previous"})
    await ingest(
        {
            "event": "$create_alias",
            "distinct_id": "previous",
            "properties": {"distinct_id": "previous", "alias": "new"},
        }
    )
    await ingest({"event": "later", "distinct_id": "new"})
    persons = await stored.persons(team.id)
    assert persons["new"]["uuid"] == persons["previous"]["uuid"]
    await assert_consistent(stored, team.id)


@pytest.mark.parametrize("illegal", ["null", "undefined", "0", "Anonymous"])
async def test_illegal_ids_never_merge(ingest: Any, stored: Stored, team: Team, illegal: str) -> None:
    await ingest({"event": "seen", "distinct_id": illegal}, {"event": "seen", "distinct_id": "real"})
    await ingest({"event": "$identify", "distinct_id": "real", "properties": {"$anon_distinct_id": illegal}})
    persons = await stored.persons(team.id)
    assert persons[illegal]["uuid"] != persons["real"]["uuid"]


async def test_property_updates_over_batches_match_one_by_one_application(
    ingest: Any, stored: Stored, team: Team
) -> None:
    rng = random.Random(5)
    keys = ["a", "b", "c", "d"]
    history: dict[str, list[tuple[dict[str, Any], dict[str, Any], list[str]]]] = {"p1": [], "p2": []}
    for batch in range(4):
        raws = []
        for i in range(12):
            who = rng.choice(["p1", "p2"])
            update = (
                {k: rng.randint(0, 9) for k in rng.sample(keys, rng.randint(0, 2))},
                {k: rng.randint(10, 19) for k in rng.sample(keys, rng.randint(0, 2))},
                rng.sample(keys, rng.randint(0, 1)),
            )
            history[who].append(update)
            raws.append(
                {
                    "event": "e",
                    "distinct_id": who,
                    "timestamp": at(batch * 100 + i),
                    "properties": {"$set": update[0], "$set_once": update[1], "$unset": update[2]},
                }
            )
        await ingest(*raws)
    persons = await stored.persons(team.id)
    for who, updates in history.items():
        assert persons[who]["properties"] == one_by_one({}, updates), who


async def test_concurrent_batches_create_each_person_once(ingest: Any, stored: Stored, team: Team) -> None:
    ids = [f"shared-{i}" for i in range(60)]

    def batch(seed: int) -> list[dict[str, Any]]:
        order = random.Random(seed).sample(ids, len(ids))
        return [{"event": "hit", "distinct_id": d, "properties": {"$set": {"seen_by": seed}}} for d in order]

    await asyncio.gather(*(ingest(*batch(seed)) for seed in range(8)))
    persons = await stored.persons(team.id)
    assert set(persons) == set(ids)
    assert await stored.count("persons", team.id) == len(ids)
    assert await stored.count("events", team.id) == len(ids) * 8
    await assert_consistent(stored, team.id)


async def test_concurrent_merges_and_captures_stay_consistent(
    ingest: Any, stored: Stored, team: Team
) -> None:
    await ingest(*({"event": "seen", "distinct_id": f"anon-{i}"} for i in range(20)))
    await ingest(*({"event": "seen", "distinct_id": f"user-{i}"} for i in range(20)))
    merges = [
        ingest(
            {
                "event": "$identify",
                "distinct_id": f"user-{i}",
                "properties": {"$anon_distinct_id": f"anon-{i}"},
            }
        )
        for i in range(20)
    ]
    captures = [ingest(*({"event": "more", "distinct_id": f"anon-{i}"} for i in range(20))) for _ in range(5)]
    await asyncio.gather(*merges, *captures)
    persons = await stored.persons(team.id)
    assert all(persons[f"anon-{i}"]["uuid"] == persons[f"user-{i}"]["uuid"] for i in range(20))
    assert await stored.count("persons", team.id) == 20
    await assert_consistent(stored, team.id)


async def test_persons_are_per_project(ingest: Any, stored: Stored, team: Team, other_team: Team) -> None:
    await ingest({"event": "e", "distinct_id": "same"})
    await ingest({"event": "e", "distinct_id": "same"}, team_id=other_team.id)
    mine, theirs = await stored.persons(team.id), await stored.persons(other_team.id)
    assert mine["same"]["uuid"] != theirs["same"]["uuid"]


async def test_concurrent_updates_of_one_person_lose_nothing(ingest: Any, stored: Stored, team: Team) -> None:
    await ingest({"event": "seen", "distinct_id": "busy"})
    await asyncio.gather(
        *(
            ingest({"event": "e", "distinct_id": "busy", "properties": {"$set": {f"k{i}": i}}})
            for i in range(12)
        )
    )
    persons = await stored.persons(team.id)
    assert persons["busy"]["properties"] == {f"k{i}": i for i in range(12)}


async def test_identify_racing_the_first_event_of_the_anonymous_id(
    ingest: Any, stored: Stored, team: Team
) -> None:
    """Both batches see `anon-i` unseen; whichever links it second must merge, not overwrite."""
    for i in range(15):
        await asyncio.gather(
            ingest({"event": "$pageview", "distinct_id": f"anon-{i}", "properties": {"$set": {"first": i}}}),
            ingest(
                {
                    "event": "$identify",
                    "distinct_id": f"user-{i}",
                    "properties": {"$anon_distinct_id": f"anon-{i}"},
                }
            ),
        )
    persons = await stored.persons(team.id)
    assert all(persons[f"anon-{i}"]["uuid"] == persons[f"user-{i}"]["uuid"] for i in range(15))
    assert all(persons[f"user-{i}"]["properties"] == {"first": i} for i in range(15))
    assert await stored.count("persons", team.id) == 15
    await assert_consistent(stored, team.id)


async def test_links_load_by_primary_key_probes_before_statistics(engine: AsyncEngine, team: Team) -> None:
    """The generic plan (asyncpg prepares every statement) of the distinct-id lookup probes the primary
    key per id even while the table has rows but no statistics of them, as on a fresh install's
    first import, where a join with the id list became a hash join over all the project's ids."""
    async with raw_connection(engine) as raw:
        await raw.execute(
            "INSERT INTO persons (team_id, uuid, properties, is_identified, created_at) "
            "VALUES ($1, gen_random_uuid(), '{}', false, now())",
            team.id,
        )
        await raw.execute(
            "INSERT INTO person_distinct_ids (team_id, distinct_id, person_id) "
            "SELECT $1, 'id-' || i, (SELECT uuid FROM persons WHERE team_id = $1) "
            "FROM generate_series(1, 5000) AS i",
            team.id,
        )
        async with raw.transaction():
            await raw.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            await raw.execute(f"PREPARE lookup (int, text[]) AS {LOAD_LINKS}")
            explained = await raw.fetch(f"EXPLAIN EXECUTE lookup({team.id}, '{{id-1,id-2}}')")
            plan = "\n".join(row[0] for row in explained)
            await raw.execute("DEALLOCATE lookup")
    scans = [line for line in plan.splitlines() if "person_distinct_ids" in line]
    assert scans, plan
    assert all("Index Scan using pk_person_distinct_ids" in line for line in scans), plan
    assert "Hash" not in plan, plan
    assert "Materialize" not in plan, plan


async def test_no_session_keeps_the_project_lock(
    engine: AsyncEngine, ingest: Any, stored: Stored, team: Team
) -> None:
    """The person lock is the session's (it spans the persons' and the events' transactions), and
    sessions return to the pool: after batches that took it shared, exclusively (a merge) and after
    one whose events failed, nobody holds it, or the next merge would wait forever."""
    await ingest({"event": "seen", "distinct_id": "anon"}, {"event": "seen", "distinct_id": "user"})
    await ingest({"event": "$identify", "distinct_id": "user", "properties": {"$anon_distinct_id": "anon"}})
    broken = normalize_events([{"event": "e", "distinct_id": "new"}], now=T0, sent_at=None)
    broken[0].uuid = "not-a-uuid"  # past every check: fails in the events' COPY, under the lock
    with pytest.raises(DataError):
        await Ingestor(engine).ingest(team.id, broken)
    held = await stored.rows(
        "SELECT count(*) AS n FROM pg_locks "
        "WHERE locktype = 'advisory' AND classid = :kind AND objid = :team",
        kind=PERSONS_LOCK_CLASS,
        team=team.id,
    )
    assert held[0]["n"] == 0
    persons = await stored.persons(team.id)
    assert persons["anon"]["uuid"] == persons["user"]["uuid"]
    assert await stored.count("events", team.id) == 3
