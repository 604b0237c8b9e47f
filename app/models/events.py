"""Captured events. The hot path is `team_id + event + timestamp range`.

`person_id` is always the event's *current* person: ingestion rewrites it when persons merge, so
queries never need to join `person_distinct_ids`.
"""

from __future__ import annotations

import uuid as uuid_lib
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, Integer, PrimaryKeyConstraint, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        # The uuid makes ingestion idempotent per project (an SDK retry is stored once).
        PrimaryKeyConstraint("team_id", "uuid"),
        Index("ix_events_team_event_timestamp", "team_id", "event", "timestamp"),
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
