"""Event and property definitions upserted by ingestion, and their type inference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.ingestion.definitions import property_type
from app.ingestion.events import normalize_events
from app.ingestion.pipeline import Ingestor
from tests.factories.identity import Team
from tests.ingestion.conftest import Stored

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("flag", True, "Boolean"),
        ("flag", "false", "Boolean"),
        ("amount", 12.5, "Numeric"),
        ("count", 3, "Numeric"),
        ("signup_time", 1714560000, "DateTime"),
        ("created", "2024-05-01T12:00:00Z", "DateTime"),
        ("day", "2024-05-01", "DateTime"),
        ("name", "Ada", "String"),
        ("zip", "02134", "String"),
        ("utm_campaign", "2024-05-01", "String"),
        ("nested", {"a": 1}, None),
        ("empty", None, None),
    ],
)
def test_property_type_inference(key: str, value: Any, expected: str | None) -> None:
    assert property_type(key, value) == expected


async def ingest(ingestor: Ingestor, team_id: int, *raw: dict[str, Any]) -> None:
    await ingestor.ingest(team_id, normalize_events(list(raw), now=T0 + timedelta(days=1), sent_at=None))


async def test_definitions_follow_ingested_events(engine: AsyncEngine, team: Team, stored: Stored) -> None:
    ingestor = Ingestor(engine)
    await ingest(
        ingestor,
        team.id,
        {
            "event": "purchase",
            "distinct_id": "d",
            "timestamp": T0.isoformat(),
            "properties": {"amount": 10, "plan": None, "$set": {"email": "a@b.c", "age": 40}},
        },
        {
            "event": "purchase",
            "distinct_id": "d",
            "timestamp": (T0 + timedelta(minutes=5)).isoformat(),
            "properties": {"plan": "pro", "coupon": True},
        },
        {
            "event": "$pageview",
            "distinct_id": "d",
            "timestamp": T0.isoformat(),
            "properties": {"$current_url": "/"},
        },
    )
    events = {
        r["name"]: r
        for r in await stored.rows("SELECT * FROM event_definitions WHERE team_id = :t", t=team.id)
    }
    assert set(events) == {"purchase", "$pageview"}
    assert events["purchase"]["last_seen_at"] == T0 + timedelta(minutes=5)
    properties = {
        (r["type"], r["name"]): (r["property_type"], r["is_numerical"])
        for r in await stored.rows("SELECT * FROM property_definitions WHERE team_id = :t", t=team.id)
    }
    assert properties == {
        (1, "amount"): ("Numeric", True),
        (1, "plan"): ("String", False),
        (1, "coupon"): ("Boolean", False),
        (1, "$current_url"): ("String", False),
        (2, "email"): ("String", False),
        (2, "age"): ("Numeric", True),
    }
    links = {
        (r["event"], r["property"])
        for r in await stored.rows("SELECT * FROM event_properties WHERE team_id = :t", t=team.id)
    }
    assert links == {
        ("purchase", "amount"),
        ("purchase", "plan"),
        ("purchase", "coupon"),
        ("$pageview", "$current_url"),
    }


async def test_last_seen_is_refreshed_at_most_hourly_and_never_goes_back(
    engine: AsyncEngine, team: Team, stored: Stored
) -> None:
    ingestor = Ingestor(engine)

    async def last_seen() -> datetime:
        (row,) = await stored.rows("SELECT last_seen_at FROM event_definitions WHERE team_id = :t", t=team.id)
        return row["last_seen_at"]  # type: ignore[no-any-return]

    await ingest(ingestor, team.id, {"event": "e", "distinct_id": "d", "timestamp": T0.isoformat()})
    await ingest(
        ingestor,
        team.id,
        {"event": "e", "distinct_id": "d", "timestamp": (T0 + timedelta(minutes=30)).isoformat()},
    )
    assert await last_seen() == T0
    await ingest(
        ingestor,
        team.id,
        {"event": "e", "distinct_id": "d", "timestamp": (T0 + timedelta(hours=2)).isoformat()},
    )
    assert await last_seen() == T0 + timedelta(hours=2)
    # Another process (no shared cache) writing an older event does not move it back.
    await ingest(Ingestor(engine), team.id, {"event": "e", "distinct_id": "d", "timestamp": T0.isoformat()})
    assert await last_seen() == T0 + timedelta(hours=2)


async def test_a_type_is_filled_in_once_a_value_shows_it(
    engine: AsyncEngine, team: Team, stored: Stored
) -> None:
    ingestor = Ingestor(engine)
    await ingest(ingestor, team.id, {"event": "e", "distinct_id": "d", "properties": {"later": None}})
    await ingest(ingestor, team.id, {"event": "e", "distinct_id": "d", "properties": {"later": 5}})
    await ingest(ingestor, team.id, {"event": "e", "distinct_id": "d", "properties": {"later": "text"}})
    (row,) = await stored.rows(
        "SELECT property_type FROM property_definitions WHERE team_id = :t AND name = 'later'", t=team.id
    )
    assert row["property_type"] == "Numeric"


async def test_volumes_count_the_last_30_days(
    engine: AsyncEngine, team: Team, other_team: Team, stored: Stored
) -> None:
    from app.ingestion.definitions import refresh_volumes

    now = datetime.now(UTC)
    ingestor = Ingestor(engine)
    recent = [
        {"event": "hit", "distinct_id": "d", "timestamp": (now - timedelta(days=d)).isoformat()}
        for d in range(5)
    ]
    old = [{"event": "hit", "distinct_id": "d", "timestamp": (now - timedelta(days=40)).isoformat()}]
    gone = [{"event": "gone", "distinct_id": "d", "timestamp": (now - timedelta(days=60)).isoformat()}]
    await ingestor.ingest(team.id, normalize_events(recent + old + gone, now=now, sent_at=None))
    await ingestor.ingest(other_team.id, normalize_events(recent[:2], now=now, sent_at=None))
    async with engine.connect() as connection:
        await refresh_volumes((await connection.get_raw_connection()).driver_connection)
    volumes = {
        (r["team_id"], r["name"]): r["volume_30_day"]
        for r in await stored.rows("SELECT team_id, name, volume_30_day FROM event_definitions")
    }
    assert volumes == {(team.id, "hit"): 5, (team.id, "gone"): 0, (other_team.id, "hit"): 2}
