"""Activity log queries, scoped by project (and by scope / item)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ActivityLog, User


async def page(
    session: AsyncSession, team_id: int, scope: str, item_id: str | None, limit: int, offset: int
) -> tuple[int, list[tuple[ActivityLog, User | None]]]:
    conditions = [ActivityLog.team_id == team_id, ActivityLog.scope == scope]
    if item_id is not None:
        conditions.append(ActivityLog.item_id == item_id)
    total = (await session.execute(select(func.count()).where(*conditions))).scalar_one()
    statement = (
        select(ActivityLog, User)
        .outerjoin(User, User.id == ActivityLog.user_id)
        .where(*conditions)
        .order_by(ActivityLog.created_at.desc(), ActivityLog.id)
        .limit(limit)
        .offset(offset)
    )
    return total, [(row[0], row[1]) for row in await session.execute(statement)]
