"""Dashboards and their tiles. Both are soft-deleted; a tile belongs to one dashboard and shows one insight.

`team_id` is repeated on tiles so every tile statement can start from the project, like everything else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, false, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow

# PostHog's Dashboard.RestrictionLevel / PrivilegeLevel.
EVERYONE_CAN_EDIT = 21
ONLY_COLLABORATORS_CAN_EDIT = 37
CAN_VIEW = 21
CAN_EDIT = 37


class Dashboard(Base):
    __tablename__ = "dashboards"
    __table_args__ = (
        Index("ix_dashboards_team_deleted", "team_id", "deleted"),
        Index(
            "uq_dashboards_team_unlisted_tag",
            "team_id",
            "unlisted_tag",
            unique=True,
            postgresql_where=text("unlisted_tag IS NOT NULL AND NOT deleted"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(400), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    last_accessed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # default | template | duplicate | unlisted; fixed at creation.
    creation_mode: Mapped[str] = mapped_column(String(16), default="default", server_default="default")
    filters: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    variables: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    breakdown_colors: Mapped[Any] = mapped_column(JSONB(none_as_null=True), nullable=True)
    data_color_theme_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default=text("'{}'"))
    restriction_level: Mapped[int] = mapped_column(
        Integer, default=EVERYONE_CAN_EDIT, server_default=str(EVERYONE_CAN_EDIT)
    )
    quick_filter_ids: Mapped[list[str] | None] = mapped_column(ARRAY(Text), nullable=True)
    # The product tag of an unlisted dashboard: at most one live unlisted dashboard per tag per project.
    unlisted_tag: Mapped[str | None] = mapped_column(String(100), nullable=True)


class DashboardTile(Base):
    __tablename__ = "dashboard_tiles"
    __table_args__ = (
        Index("ix_dashboard_tiles_team_dashboard", "team_id", "dashboard_id"),
        Index("ix_dashboard_tiles_team_insight", "team_id", "insight_id"),
        # One tile per insight per dashboard (re-adding an insight revives its soft-deleted tile).
        Index(
            "uq_dashboard_tiles_dashboard_insight",
            "dashboard_id",
            "insight_id",
            unique=True,
            postgresql_where=text("insight_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    dashboard_id: Mapped[int] = mapped_column(ForeignKey("dashboards.id", ondelete="CASCADE"))
    insight_id: Mapped[int | None] = mapped_column(
        ForeignKey("insights.id", ondelete="CASCADE"), nullable=True
    )
    text_id: Mapped[int | None] = mapped_column(ForeignKey("texts.id", ondelete="CASCADE"), nullable=True)
    # {"sm": {"x","y","w","h","minW","minH","i"}, "xs": {...}}
    layouts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    color: Mapped[str | None] = mapped_column(String(400), nullable=True)
    filters_overrides: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True), nullable=True)
    show_description: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    transparent_background: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


class DashboardText(Base):
    """The markdown body of a text tile."""

    __tablename__ = "texts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(String(4000), default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    last_modified_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    last_modified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class DashboardViewed(Base):
    """When each user last opened each dashboard (the serializer's `last_viewed_at`)."""

    __tablename__ = "dashboard_views"
    __table_args__ = (Index("uq_dashboard_views_user_dashboard", "user_id", "dashboard_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    dashboard_id: Mapped[int] = mapped_column(ForeignKey("dashboards.id", ondelete="CASCADE"))
    last_viewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
