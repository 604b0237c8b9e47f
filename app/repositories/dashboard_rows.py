"""Dashboards with what their serializer shows, and their tiles. Every statement starts from the project.

Like insight rows, statements are built once with bound parameters (`_params`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.models import (
    Dashboard,
    DashboardText,
    DashboardTile,
    DashboardViewed,
    Insight,
    SharingConfiguration,
    User,
)
from app.repositories import viewer_access
from app.repositories.insights import Viewer
from app.repositories.viewer_access import TEAM, VIEWER

Creator = aliased(User, name="dashboard_creator")


def _params(team_id: int, viewer: Viewer, **extra: Any) -> dict[str, Any]:
    return {
        "team_id": team_id,
        "viewer_id": viewer.user_id,
        "membership_id": viewer.membership_id,
        "is_admin": viewer.is_admin,
        **extra,
    }


@dataclass(slots=True)
class DashboardRow:
    dashboard: Dashboard
    created_by: User | None
    last_viewed_at: datetime | None
    is_shared: bool
    member_level: str | None
    default_level: str | None


VISIBLE = viewer_access.visible("dashboard", Dashboard.id, Dashboard.created_by_id)
ROWS = (
    select(
        Dashboard,
        Creator,
        select(DashboardViewed.last_viewed_at)
        .where(
            DashboardViewed.team_id == TEAM,
            DashboardViewed.dashboard_id == Dashboard.id,
            DashboardViewed.user_id == VIEWER,
        )
        .scalar_subquery()
        .label("last_viewed_at"),
        select(SharingConfiguration.id)
        .where(
            SharingConfiguration.team_id == TEAM,
            SharingConfiguration.dashboard_id == Dashboard.id,
            SharingConfiguration.enabled.is_(True),
        )
        .exists()
        .label("is_shared"),
        viewer_access.rule_level("dashboard", Dashboard.id, member=True).label("member_level"),
        viewer_access.rule_level("dashboard", Dashboard.id, member=False).label("default_level"),
    )
    .outerjoin(Creator, Creator.id == Dashboard.created_by_id)
    .where(Dashboard.team_id == TEAM, VISIBLE)
)
DASHBOARD = bindparam("dashboard_id", type_=Integer)
BY_ID = ROWS.where(Dashboard.id == DASHBOARD)
BY_ID_LIVE = BY_ID.where(Dashboard.deleted.is_(False))


def _to_row(row: Any) -> DashboardRow:
    return DashboardRow(
        row[0], row[1], row.last_viewed_at, bool(row.is_shared), row.member_level, row.default_level
    )


async def get(
    session: AsyncSession, team_id: int, viewer: Viewer, dashboard_id: int, *, include_deleted: bool = False
) -> DashboardRow | None:
    statement = BY_ID if include_deleted else BY_ID_LIVE
    row = (await session.execute(statement, _params(team_id, viewer, dashboard_id=dashboard_id))).first()
    return None if row is None else _to_row(row)


@dataclass(frozen=True, slots=True)
class ListFilters:
    search: str | None = None
    tags: tuple[str, ...] = ()
    pinned: bool | None = None
    unlisted: bool = False


async def page(
    session: AsyncSession, team_id: int, viewer: Viewer, filters: ListFilters, limit: int, offset: int
) -> tuple[int, list[DashboardRow]]:
    """Live dashboards, pinned first then by name (unlisted ones only when asked for)."""
    statement = ROWS.where(Dashboard.deleted.is_(False))
    mode = Dashboard.creation_mode == "unlisted"
    statement = statement.where(mode if filters.unlisted else ~mode)
    if filters.search:
        statement = statement.where(
            or_(
                Dashboard.name.icontains(filters.search, autoescape=True),
                Dashboard.description.icontains(filters.search, autoescape=True),
            )
        )
    if filters.tags:
        statement = statement.where(Dashboard.tags.overlap(list(filters.tags)))
    if filters.pinned is not None:
        statement = statement.where(Dashboard.pinned.is_(filters.pinned))
    params = _params(team_id, viewer)
    count_statement = select(func.count()).select_from(statement.with_only_columns(Dashboard.id).subquery())
    count = (await session.execute(count_statement, params)).scalar_one()
    ordered = statement.order_by(Dashboard.pinned.desc(), Dashboard.name.asc().nulls_last(), Dashboard.id)
    rows = await session.execute(ordered.limit(limit).offset(offset), params)
    return count, [_to_row(row) for row in rows]


TILES = (
    select(DashboardTile, DashboardText)
    .outerjoin(Insight, and_(Insight.id == DashboardTile.insight_id, Insight.team_id == TEAM))
    .outerjoin(DashboardText, and_(DashboardText.id == DashboardTile.text_id, DashboardText.team_id == TEAM))
    .where(
        DashboardTile.team_id == TEAM,
        DashboardTile.dashboard_id == DASHBOARD,
        DashboardTile.deleted.is_(False),
        or_(DashboardTile.insight_id.is_(None), Insight.deleted.is_(False)),
    )
    .order_by(DashboardTile.id)
)


async def tiles(
    session: AsyncSession, team_id: int, dashboard_id: int
) -> list[tuple[DashboardTile, DashboardText | None]]:
    """The dashboard's live tiles with their texts; tiles of deleted insights are left out."""
    rows = await session.execute(TILES, {"team_id": team_id, "dashboard_id": dashboard_id})
    return [(row[0], row[1]) for row in rows]


async def tiles_by_ids(session: AsyncSession, team_id: int, ids: Sequence[int]) -> list[DashboardTile]:
    statement = select(DashboardTile).where(DashboardTile.team_id == team_id, DashboardTile.id.in_(list(ids)))
    return list((await session.execute(statement)).scalars())


async def record_view(
    session: AsyncSession, team_id: int, user_id: int, dashboard_id: int, now: datetime
) -> None:
    statement = insert(DashboardViewed).values(
        team_id=team_id, user_id=user_id, dashboard_id=dashboard_id, last_viewed_at=now
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "dashboard_id"], set_={"last_viewed_at": now}
        )
    )


async def unlisted_exists(session: AsyncSession, team_id: int, tag: str) -> bool:
    statement = select(Dashboard.id).where(
        Dashboard.team_id == team_id, Dashboard.unlisted_tag == tag, Dashboard.deleted.is_(False)
    )
    return (await session.execute(statement)).first() is not None


async def insights_only_on(session: AsyncSession, team_id: int, dashboard_id: int) -> list[int]:
    """Insights whose only live tile is on this dashboard (what `delete_insights` removes)."""
    other = aliased(DashboardTile)
    elsewhere = (
        select(other.id)
        .join(Dashboard, and_(Dashboard.id == other.dashboard_id, Dashboard.team_id == team_id))
        .where(
            other.team_id == team_id,
            other.insight_id == DashboardTile.insight_id,
            other.dashboard_id != dashboard_id,
            other.deleted.is_(False),
            Dashboard.deleted.is_(False),
        )
        .exists()
    )
    statement = select(DashboardTile.insight_id).where(
        DashboardTile.team_id == team_id,
        DashboardTile.dashboard_id == dashboard_id,
        DashboardTile.insight_id.is_not(None),
        DashboardTile.deleted.is_(False),
        ~elsewhere,
    )
    return [i for i in (await session.execute(statement)).scalars() if i is not None]


def visible_ids() -> Select[Any]:
    return select(Dashboard.id).where(Dashboard.team_id == TEAM, VISIBLE)
