"""Persons and the distinct ids that resolve to them."""

from __future__ import annotations

import uuid as uuid_lib
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Text,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class Person(Base):
    __tablename__ = "persons"
    __table_args__ = (PrimaryKeyConstraint("team_id", "uuid"),)

    uuid: Mapped[uuid_lib.UUID] = mapped_column(UUID(as_uuid=True), default=uuid_lib.uuid4)
    team_id: Mapped[int] = mapped_column(Integer)
    properties: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    is_identified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


class PersonDistinctId(Base):
    __tablename__ = "person_distinct_ids"
    __table_args__ = (
        PrimaryKeyConstraint("team_id", "distinct_id"),
        Index("ix_person_distinct_ids_team_person", "team_id", "person_id"),
    )

    team_id: Mapped[int] = mapped_column(Integer)
    distinct_id: Mapped[str] = mapped_column(Text)
    person_id: Mapped[uuid_lib.UUID] = mapped_column(UUID(as_uuid=True))
