"""Elements saved through `/elements/` (PostHog's legacy `posthog_element` rows).

Click statistics never read this table: they aggregate the `elements_chain` of events.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import ForeignKey, Index, Integer, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CreatedAt


class Element(CreatedAt, Base):
    __tablename__ = "elements"
    __table_args__ = (Index("ix_elements_team_id", "team_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    tag_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    attr_class: Mapped[list[str] | None] = mapped_column(ARRAY(Text), nullable=True)
    href: Mapped[str | None] = mapped_column(Text, nullable=True)
    attr_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    nth_child: Mapped[int | None] = mapped_column(Integer, nullable=True)
    nth_of_type: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=sa.text("'{}'::jsonb")
    )
    order: Mapped[int | None] = mapped_column(Integer, nullable=True)
