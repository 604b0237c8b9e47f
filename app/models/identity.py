"""Organizations, users, projects and personal API keys.

A PostHog "team" (environment) and "project" are the same row here: each project has exactly one
environment whose id equals the project id, so `/api/environments/:id/` and `/api/projects/:id/`
address the same data.
"""

from __future__ import annotations

import uuid as uuid_lib
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, CreatedAt


class Organization(CreatedAt, Base):
    __tablename__ = "organizations"

    id: Mapped[uuid_lib.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid_lib.uuid4)
    name: Mapped[str] = mapped_column(String(64))


class User(CreatedAt, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[uuid_lib.UUID] = mapped_column(UUID(as_uuid=True), unique=True, default=uuid_lib.uuid4)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    first_name: Mapped[str] = mapped_column(String(150), default="")
    last_name: Mapped[str] = mapped_column(String(150), default="")
    distinct_id: Mapped[str] = mapped_column(String(200), unique=True)
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    current_project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL", use_alter=True), nullable=True
    )


class OrganizationMembership(CreatedAt, Base):
    __tablename__ = "organization_memberships"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[uuid_lib.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # PostHog's levels: 1 member, 8 admin, 15 owner.
    level: Mapped[int] = mapped_column(Integer, default=1)


class Project(CreatedAt, Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[uuid_lib.UUID] = mapped_column(UUID(as_uuid=True), unique=True, default=uuid_lib.uuid4)
    organization_id: Mapped[uuid_lib.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    api_token: Mapped[str] = mapped_column(String(200), unique=True)
    timezone: Mapped[str] = mapped_column(String(240), default="UTC")
    # PostHog: 0 = Sunday, 1 = Monday; null means the locale default (Sunday).
    week_start_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    test_account_filters: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    test_account_filters_default_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    organization: Mapped[Organization] = relationship(lazy="raise")


class PersonalAPIKey(CreatedAt, Base):
    __tablename__ = "personal_api_keys"

    id: Mapped[uuid_lib.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid_lib.uuid4)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(40), default="")
    # "sha256$<hex>" as PostHog stores it; the raw key is shown once, on creation.
    secure_value: Mapped[str] = mapped_column(String(300), unique=True)
    mask_value: Mapped[str] = mapped_column(String(11))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    scoped_teams: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger), nullable=True)
    scoped_organizations: Mapped[list[str] | None] = mapped_column(ARRAY(Text), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_rolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
