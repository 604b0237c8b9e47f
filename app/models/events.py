"""Captured events. The hot path is `team_id + event + timestamp range`.

`person_id` is always the event's *current* person: ingestion rewrites it when persons merge, so
queries never need to join `person_distinct_ids`.

Promoted properties (PostHog's "materialized columns"): a few short, low-cardinality properties that
breakdowns and filters use most are also stored as generated columns and carried in the event+time
index, so those queries run as index-only scans instead of reading each event's JSON from the table
(bench/event_indexes.py). The page properties are promoted too, for paths over page views, which
read them from an index of page views alone. The compiler reads them through
`app.query.sql.prop_text`; a generated column is by definition equal to `properties ->> key`, so
results cannot differ.
"""

from __future__ import annotations

import uuid as uuid_lib
from datetime import datetime
from typing import Any

from sqlalchemy import Computed, DateTime, Index, Integer, PrimaryKeyConstraint, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow

# Event property → generated column. Short values are carried in the event+time index; page URLs
# would widen that index, which every events scan reads, so only the page-view index carries them.
SHORT_PROMOTED = {
    "$browser": "mat_browser",
    "$os": "mat_os",
    "$device_type": "mat_device_type",
    "$geoip_country_code": "mat_geoip_country_code",
}
PAGE_PROMOTED = {"$current_url": "mat_current_url", "$pathname": "mat_pathname"}
PROMOTED_PROPERTIES = SHORT_PROMOTED | PAGE_PROMOTED
INDEXED_COLUMNS = ["person_id", *SHORT_PROMOTED.values()]


def _promoted(key: str) -> Mapped[str | None]:
    # The key is a constant of this module, never user input.
    return mapped_column(Text, Computed(f"properties ->> '{key}'", persisted=True), nullable=True)


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        # The uuid makes ingestion idempotent per project (an SDK retry is stored once).
        PrimaryKeyConstraint("team_id", "uuid"),
        # person_id and the promoted properties included: person-level maths, and breakdowns and
        # filters on promoted properties, run as index-only scans.
        Index(
            "ix_events_team_event_timestamp",
            "team_id",
            "event",
            "timestamp",
            postgresql_include=INDEXED_COLUMNS,
        ),
        # Paths over page views read (person, time, page) of every page view in range: index-only.
        # Other page-view scans find it narrower than the event+time index, and use it (1M events:
        # pageviews by day 36 -> 27 ms, lifecycle 142 -> 130 ms).
        Index(
            "ix_events_team_pageview_pages",
            "team_id",
            "timestamp",
            postgresql_include=["person_id", *PAGE_PROMOTED.values()],
            postgresql_where=text("event = '$pageview'"),
        ),
        Index("ix_events_team_timestamp", "team_id", "timestamp"),
        # Person merges rewrite the merged person's events.
        Index("ix_events_team_person", "team_id", "person_id"),
    )

    uuid: Mapped[uuid_lib.UUID] = mapped_column(UUID(as_uuid=True))
    team_id: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(Text)
    distinct_id: Mapped[str] = mapped_column(Text)
    person_id: Mapped[uuid_lib.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    properties: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    elements_chain: Mapped[str] = mapped_column(Text, default="", server_default="")
    session_id: Mapped[str | None] = mapped_column("$session_id", Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    mat_browser: Mapped[str | None] = _promoted("$browser")
    mat_os: Mapped[str | None] = _promoted("$os")
    mat_device_type: Mapped[str | None] = _promoted("$device_type")
    mat_geoip_country_code: Mapped[str | None] = _promoted("$geoip_country_code")
    mat_current_url: Mapped[str | None] = _promoted("$current_url")
    mat_pathname: Mapped[str | None] = _promoted("$pathname")


class PersonEventFirstSeen(Base):
    """When each person first did each event, kept by triggers on `events` (migration 0011) through
    every write path, merges included. Lifecycle asks it whether an actor was active before a range
    instead of scanning all the older events."""

    __tablename__ = "person_event_first_seen"
    __table_args__ = (PrimaryKeyConstraint("team_id", "event", "person_id"),)

    team_id: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(Text)
    person_id: Mapped[uuid_lib.UUID] = mapped_column(UUID(as_uuid=True))
    first_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
