"""Event and property definitions: ingestion keeps names, types and `last_seen_at` up to date; the
API owns the descriptive metadata (description, tags, verification, owner…), which ingestion never
touches (its upserts only move `last_seen_at` and fill a missing `property_type`)."""

from __future__ import annotations

import uuid as uuid_lib
from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class EventDefinition(Base):
    __tablename__ = "event_definitions"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    id: Mapped[uuid_lib.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid_lib.uuid4)
    team_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    volume_30_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    query_usage_30_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default=text("'{}'"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    verified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # "allow" | "reject" (PostHog's schema enforcement; stored, not enforced at ingestion here).
    enforcement_mode: Mapped[str] = mapped_column(Text, default="allow", server_default="allow")
    default_columns: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default=text("'{}'"))
    post_to_slack: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class PropertyDefinition(Base):
    __tablename__ = "property_definitions"
    __table_args__ = (UniqueConstraint("team_id", "type", "name"),)

    # PostHog's PropertyDefinition.Type: 1 event, 2 person, 3 group, 4 session.
    EVENT = 1
    PERSON = 2

    id: Mapped[uuid_lib.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid_lib.uuid4)
    team_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    type: Mapped[int] = mapped_column(SmallInteger, default=EVENT)
    # "String" | "Numeric" | "Boolean" | "DateTime", inferred from the first values seen.
    property_type: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_numerical: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default=text("'{}'"))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class EventProperty(Base):
    """Which properties were seen with which events (drives `property_definitions?event_names=`)."""

    __tablename__ = "event_properties"
    __table_args__ = (PrimaryKeyConstraint("team_id", "event", "property"),)

    team_id: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(Text)
    property: Mapped[str] = mapped_column(Text)
