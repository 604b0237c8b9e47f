"""The activity log: who did what to which object, with before/after field diffs (PostHog's ActivityLog)."""

from __future__ import annotations

import uuid as uuid_lib
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, false, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class ActivityLog(Base):
    __tablename__ = "activity_logs"
    __table_args__ = (
        Index("ix_activity_logs_team_scope_item", "team_id", "scope", "item_id", "created_at"),
        Index("ix_activity_logs_team_scope_created", "team_id", "scope", "created_at"),
    )

    id: Mapped[uuid_lib.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid_lib.uuid4)
    team_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    is_system: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    activity: Mapped[str] = mapped_column(String(79))
    scope: Mapped[str] = mapped_column(String(79))
    item_id: Mapped[str] = mapped_column(String(72))
    # {"id", "changes": [...] | null, "merge", "trigger", "name", "short_id", "type"}
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
