"""Sharing links and per-object access rules for insights and dashboards.

A sharing configuration's `access_token` lets anyone read that one object (GET /shared/:token) while
`enabled`; disabling it rotates the token so a revoked link never works again.
Access rules (PostHog's AccessControl): a level for one organization member on one object, or the
object's default for everyone (`organization_member_id` null).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, false, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class SharingConfiguration(Base):
    __tablename__ = "sharing_configurations"
    __table_args__ = (
        Index("uq_sharing_configurations_insight", "insight_id", unique=True),
        Index("uq_sharing_configurations_dashboard", "dashboard_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    insight_id: Mapped[int | None] = mapped_column(
        ForeignKey("insights.id", ondelete="CASCADE"), nullable=True
    )
    dashboard_id: Mapped[int | None] = mapped_column(
        ForeignKey("dashboards.id", ondelete="CASCADE"), nullable=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    access_token: Mapped[str] = mapped_column(String(400), unique=True)
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


class AccessControl(Base):
    __tablename__ = "access_controls"
    __table_args__ = (
        Index(
            "uq_access_controls_rule",
            "team_id",
            "resource",
            "resource_id",
            text("coalesce(organization_member_id, 0)"),
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    resource: Mapped[str] = mapped_column(String(32))  # "insight" | "dashboard"
    resource_id: Mapped[str] = mapped_column(String(36))
    access_level: Mapped[str] = mapped_column(String(32))  # none | viewer | editor | manager
    organization_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization_memberships.id", ondelete="CASCADE"), nullable=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
