"""Stored elements. Every statement starts from `team_id == project.id`."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Element


async def page(session: AsyncSession, team_id: int, limit: int, offset: int) -> tuple[int, list[Element]]:
    count = await session.scalar(select(func.count()).where(Element.team_id == team_id))
    rows = await session.scalars(
        select(Element).where(Element.team_id == team_id).order_by(Element.id).limit(limit).offset(offset)
    )
    return int(count or 0), list(rows)


async def get(session: AsyncSession, team_id: int, element_id: int) -> Element | None:
    found = await session.scalars(select(Element).where(Element.team_id == team_id, Element.id == element_id))
    return found.first()
