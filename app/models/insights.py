"""Insights (PostHog's `posthog_dashboarditem`) and who viewed them when.

Insights are soft-deleted (`deleted`); tags are a sorted, de-duplicated `text[]` (see services/tags.py).
`updated_at` moves on every save, `last_modified_at` only on material changes (the service decides).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class Insight(Base):
    __tablename__ = "insights"
    __table_args__ = (
        UniqueConstraint("team_id", "short_id", name="uq_insights_team_id_short_id"),
        Index("ix_insights_team_deleted", "team_id", "deleted"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    short_id: Mapped[str] = mapped_column(String(12))
    name: Mapped[str | None] = mapped_column(String(400), nullable=True)
    derived_name: Mapped[str | None] = mapped_column(String(400), nullable=True)
    description: Mapped[str | None] = mapped_column(String(400), nullable=True)
    filters: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    query: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True), nullable=True)
    order: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    saved: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    favorited: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default=text("'{}'"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    last_modified_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    last_modified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class InsightViewed(Base):
    __tablename__ = "insight_views"
    __table_args__ = (
        UniqueConstraint("user_id", "insight_id", name="uq_insight_views_user_id_insight_id"),
        Index("ix_insight_views_team_user_viewed", "team_id", "user_id", "last_viewed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    insight_id: Mapped[int] = mapped_column(ForeignKey("insights.id", ondelete="CASCADE"))
    last_viewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
