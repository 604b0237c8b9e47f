"""Actions: named, reusable event definitions made of OR-ed steps (event + filters + url/element match)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, false, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, CreatedAt, utcnow
from app.models.identity import User


class Action(CreatedAt, Base):
    __tablename__ = "actions"
    __table_args__ = (Index("ix_actions_team_deleted", "team_id", "deleted"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(400))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # [{event, properties, url, url_matching, text, text_matching, href, href_matching, selector, tag_name}]
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    post_to_slack: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    slack_message_format: Mapped[str] = mapped_column(Text, default="", server_default="")
    pinned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # Loaded with every action (one join): the API shows the creator on each object.
    created_by: Mapped[User | None] = relationship(lazy="joined")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, server_default=func.now()
    )
