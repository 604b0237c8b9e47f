"""Dashboard and tile queries. Every statement starts from `team_id == project.id`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Dashboard, DashboardTile


async def get(session: AsyncSession, team_id: int, dashboard_id: int) -> Dashboard | None:
    statement = select(Dashboard).where(
        Dashboard.team_id == team_id, Dashboard.id == dashboard_id, Dashboard.deleted.is_(False)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def by_ids(session: AsyncSession, team_id: int, ids: Sequence[int]) -> dict[int, Dashboard]:
    if not ids:
        return {}
    statement = select(Dashboard).where(
        Dashboard.team_id == team_id, Dashboard.id.in_(list(ids)), Dashboard.deleted.is_(False)
    )
    return {board.id: board for board in (await session.execute(statement)).scalars()}


async def insight_tiles(session: AsyncSession, team_id: int, insight_id: int) -> list[DashboardTile]:
    """Every tile of the insight, soft-deleted ones included (re-adding revives them)."""
    statement = select(DashboardTile).where(
        DashboardTile.team_id == team_id, DashboardTile.insight_id == insight_id
    )
    return list((await session.execute(statement)).scalars())


async def insight_tile(
    session: AsyncSession, team_id: int, dashboard_id: int, insight_id: int
) -> DashboardTile | None:
    statement = select(DashboardTile).where(
        DashboardTile.team_id == team_id,
        DashboardTile.dashboard_id == dashboard_id,
        DashboardTile.insight_id == insight_id,
        DashboardTile.deleted.is_(False),
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def soft_delete_insight_tiles(session: AsyncSession, team_id: int, insight_id: int) -> None:
    await session.execute(
        update(DashboardTile)
        .where(DashboardTile.team_id == team_id, DashboardTile.insight_id == insight_id)
        .values(deleted=True)
    )
