"""Insight queries. Every statement starts from `team_id == project.id`.

`load_rows` fetches insights together with everything their serializer shows (creators, active tiles,
the viewer's last view, the access rules that apply to the viewer) in one round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.models import Dashboard, DashboardTile, Insight, InsightViewed, User
from app.models.base import utcnow
from app.repositories import viewer_access
from app.repositories.viewer_access import TEAM, VIEWER

Creator = aliased(User, name="creator")
Modifier = aliased(User, name="modifier")


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking: their access rules and views are looked up alongside the insights."""

    user_id: int
    membership_id: int | None
    is_admin: bool


@dataclass(slots=True)
class InsightRow:
    insight: Insight
    created_by: User | None
    last_modified_by: User | None
    # (tile id, dashboard id, dashboard restriction level, dashboard creator id) for active tiles.
    tiles: list[tuple[int, int, int, int | None]]
    last_viewed_at: datetime | None
    member_level: str | None
    default_level: str | None
    search_match_type: str | None = None


# Statements are built once with bound parameters (building SQLAlchemy constructs per request costs
# more than running them); each execution passes `statement_params(team_id, viewer)`.


def statement_params(team_id: int, viewer: Viewer, **extra: Any) -> dict[str, Any]:
    return {
        "team_id": team_id,
        "viewer_id": viewer.user_id,
        "membership_id": viewer.membership_id,
        "is_admin": viewer.is_admin,
        **extra,
    }


def _tiles_column() -> ColumnElement[Any]:
    tile = aliased(DashboardTile)
    board = aliased(Dashboard)
    entry = func.jsonb_build_array(tile.id, tile.dashboard_id, board.restriction_level, board.created_by_id)
    return (
        select(func.coalesce(func.jsonb_agg(aggregate_order_by(entry, tile.id)), text("'[]'::jsonb")))
        .select_from(tile)
        .join(board, and_(board.id == tile.dashboard_id, board.team_id == TEAM))
        .where(
            tile.team_id == TEAM,
            tile.insight_id == Insight.id,
            tile.deleted.is_(False),
            board.deleted.is_(False),
        )
        .scalar_subquery()
    )


def _viewed_column() -> ColumnElement[Any]:
    return (
        select(InsightViewed.last_viewed_at)
        .where(
            InsightViewed.team_id == TEAM,
            InsightViewed.insight_id == Insight.id,
            InsightViewed.user_id == VIEWER,
        )
        .scalar_subquery()
    )


VISIBLE = viewer_access.visible("insight", Insight.id, Insight.created_by_id)


def rows_of(*entities: Any) -> Select[Any]:
    """The insight, its creator and last modifier (as `entities` choose to select them), and what
    the serializer shows beside them, for the viewer: `row_of` reads one such row."""
    return (
        select(
            *entities,
            _tiles_column().label("tiles"),
            _viewed_column().label("last_viewed_at"),
            viewer_access.rule_level("insight", Insight.id, member=True).label("member_level"),
            viewer_access.rule_level("insight", Insight.id, member=False).label("default_level"),
        )
        .outerjoin(Creator, Creator.id == Insight.created_by_id)
        .outerjoin(Modifier, Modifier.id == Insight.last_modified_by_id)
        .where(Insight.team_id == TEAM)
    )


def row_of(insight: Insight, created_by: User | None, last_modified_by: User | None, row: Any) -> InsightRow:
    return InsightRow(
        insight=insight,
        created_by=created_by,
        last_modified_by=last_modified_by,
        tiles=[(t[0], t[1], t[2], t[3]) for t in row["tiles"]],
        last_viewed_at=row["last_viewed_at"],
        member_level=row["member_level"],
        default_level=row["default_level"],
    )


def numeric_ref(ref: str) -> int | None:
    """An insight ref that is looked up by id first (then by short_id, PostHog's lookup order)."""
    return int(ref) if ref.isascii() and ref.isdigit() and int(ref) <= 2**31 - 1 else None


ROWS = rows_of(Insight, Creator, Modifier)
LIVE = Insight.deleted.is_(False)
BY_ID = ROWS.where(VISIBLE, LIVE, Insight.id == bindparam("ref_id", type_=Integer))
BY_ID_ANY = ROWS.where(VISIBLE, Insight.id == bindparam("ref_id", type_=Integer))
BY_SHORT_ID = ROWS.where(VISIBLE, LIVE, Insight.short_id == bindparam("ref", type_=String))
BY_SHORT_ID_ANY = ROWS.where(VISIBLE, Insight.short_id == bindparam("ref", type_=String))
BY_IDS = ROWS.where(Insight.id.in_(bindparam("ids", expanding=True)))


def _to_row(row: Any) -> InsightRow:
    return row_of(row[0], row[1], row[2], row._mapping)


async def get(
    session: AsyncSession, team_id: int, ref: str, viewer: Viewer, *, include_deleted: bool = False
) -> InsightRow | None:
    """By numeric id first, then by short_id (PostHog's lookup order)."""
    if (ref_id := numeric_ref(ref)) is not None:
        by_id = BY_ID_ANY if include_deleted else BY_ID
        row = (await session.execute(by_id, statement_params(team_id, viewer, ref_id=ref_id))).first()
        if row is not None:
            return _to_row(row)
    by_short_id = BY_SHORT_ID_ANY if include_deleted else BY_SHORT_ID
    row = (await session.execute(by_short_id, statement_params(team_id, viewer, ref=ref))).first()
    return None if row is None else _to_row(row)


async def load_rows(
    session: AsyncSession, team_id: int, viewer: Viewer, ids: Sequence[int]
) -> dict[int, InsightRow]:
    if not ids:
        return {}
    result = await session.execute(BY_IDS, statement_params(team_id, viewer, ids=list(ids)))
    return {row[0].id: _to_row(row) for row in result}


def visible() -> Select[Any]:
    """The base of list queries: the project's non-deleted insights the viewer may see."""
    return select(Insight.id).where(Insight.team_id == TEAM, LIVE, VISIBLE)


async def page_ids(
    session: AsyncSession, team_id: int, viewer: Viewer, statement: Select[Any], limit: int, offset: int
) -> tuple[int, list[tuple[int, str | None]]]:
    """Count and one page of (id, search_match_type) for an id query built on `visible()`."""
    params = statement_params(team_id, viewer)
    count_statement = select(func.count()).select_from(statement.order_by(None).subquery())
    count = (await session.execute(count_statement, params)).scalar_one()
    rows = (await session.execute(statement.limit(limit).offset(offset), params)).all()
    return count, [(row[0], row[1] if len(row) > 1 else None) for row in rows]


async def short_id_taken(session: AsyncSession, team_id: int, short_id: str) -> bool:
    found = await session.execute(
        select(Insight.id).where(Insight.team_id == team_id, Insight.short_id == short_id)
    )
    return found.first() is not None


async def for_update(session: AsyncSession, team_id: int, ids: Sequence[int]) -> list[Insight]:
    statement = select(Insight).where(
        Insight.team_id == team_id, Insight.id.in_(list(ids)), Insight.deleted.is_(False)
    )
    return list((await session.execute(statement.with_for_update())).scalars())


async def existing_ids(session: AsyncSession, team_id: int, ids: Sequence[int]) -> list[int]:
    statement = select(Insight.id).where(
        Insight.team_id == team_id, Insight.id.in_(list(ids)), Insight.deleted.is_(False)
    )
    return list((await session.execute(statement)).scalars())


async def record_views(
    session: AsyncSession,
    team_id: int,
    user_id: int,
    insight_ids: Sequence[int],
    when: datetime | None = None,
) -> None:
    if not insight_ids:
        return
    when = when or utcnow()
    statement = insert(InsightViewed).values(
        [
            {"team_id": team_id, "user_id": user_id, "insight_id": insight_id, "last_viewed_at": when}
            for insight_id in insight_ids
        ]
    )
    await session.execute(
        statement.on_conflict_do_update(
            constraint="uq_insight_views_user_id_insight_id",
            set_={"last_viewed_at": statement.excluded.last_viewed_at},
        )
    )


async def last_viewed_ids(session: AsyncSession, team_id: int, viewer: Viewer, limit: int) -> list[int]:
    statement = (
        select(InsightViewed.insight_id)
        .join(Insight, and_(Insight.id == InsightViewed.insight_id, Insight.team_id == TEAM))
        .where(InsightViewed.team_id == TEAM, InsightViewed.user_id == VIEWER, LIVE, VISIBLE)
        .order_by(InsightViewed.last_viewed_at.desc(), InsightViewed.id.desc())
        .limit(limit)
    )
    return list((await session.execute(statement, statement_params(team_id, viewer))).scalars())


@dataclass(frozen=True, slots=True)
class ListFilters:
    """List parameters, already parsed and validated by the service."""

    saved: bool | None = None
    created_by_viewer: bool = False
    favorited: bool = False
    modified_after: datetime | None = None
    modified_before: datetime | None = None
    kind: tuple[str, str] | None = None  # (legacy `filters.insight`, query node kind)
    search: str | None = None
    dashboards: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    created_by: tuple[int, ...] = ()
    created_after: datetime | None = None
    created_before: datetime | None = None
    viewed_after: datetime | None = None
    viewed_before: datetime | None = None
    order: str | None = None  # a sortable field, optionally prefixed with "-"
    short_id: str | None = None


SIMILARITY_THRESHOLD = 0.3
ORDER_FIELDS = {
    "id": Insight.id,
    "name": Insight.name,
    "derived_name": Insight.derived_name,
    "description": Insight.description,
    "order": Insight.order,
    "short_id": Insight.short_id,
    "created_at": Insight.created_at,
    "updated_at": Insight.updated_at,
    "last_modified_at": Insight.last_modified_at,
    "favorited": Insight.favorited,
    "saved": Insight.saved,
}


def _on_dashboard(team_id: int, dashboard_id: int | None = None) -> ColumnElement[bool]:
    conditions = [
        DashboardTile.team_id == team_id,
        DashboardTile.insight_id == Insight.id,
        DashboardTile.deleted.is_(False),
        Dashboard.deleted.is_(False),
    ]
    if dashboard_id is None:
        conditions.append(Dashboard.creation_mode != "unlisted")
    else:
        conditions.append(DashboardTile.dashboard_id == dashboard_id)
    return (
        select(DashboardTile.id)
        .join(Dashboard, and_(Dashboard.id == DashboardTile.dashboard_id, Dashboard.team_id == team_id))
        .where(*conditions)
        .exists()
    )


def _kind_matches(legacy: str, node_kind: str) -> ColumnElement[bool]:
    query_kind = func.coalesce(Insight.query["source"]["kind"].astext, Insight.query["kind"].astext)
    legacy_kind = func.coalesce(Insight.filters["insight"].astext, "TRENDS")
    return or_(
        query_kind == node_kind,
        and_(Insight.query.is_(None), Insight.filters != text("'{}'::jsonb"), legacy_kind == legacy),
    )


def _viewed_between(team_id: int, user_id: int, after: datetime | None, before: datetime | None) -> Any:
    conditions = [
        InsightViewed.team_id == team_id,
        InsightViewed.insight_id == Insight.id,
        InsightViewed.user_id == user_id,
    ]
    if after is not None:
        conditions.append(InsightViewed.last_viewed_at >= after)
    if before is not None:
        conditions.append(InsightViewed.last_viewed_at <= before)
    return select(InsightViewed.id).where(*conditions).exists()


def _search_columns(search: str) -> tuple[ColumnElement[bool], ColumnElement[int], ColumnElement[bool]]:
    """(exact match, relevance rank, similar match): name hits rank above tags, tags above description."""
    tags_text = func.array_to_string(Insight.tags, " ")
    in_name = or_(
        Insight.name.icontains(search, autoescape=True),
        Insight.derived_name.icontains(search, autoescape=True),
    )
    in_tags = tags_text.icontains(search, autoescape=True)
    in_description = Insight.description.icontains(search, autoescape=True)
    exact = or_(in_name, in_tags, in_description)
    needle = func.lower(search)
    similar = or_(
        *(
            func.word_similarity(needle, func.lower(func.coalesce(column, ""))) >= SIMILARITY_THRESHOLD
            for column in (Insight.name, Insight.derived_name, Insight.description, tags_text)
        )
    )
    rank = case((in_name, 0), (in_tags, 1), (in_description, 2), else_=3)
    return exact, rank, similar


def list_statement(team_id: int, viewer: Viewer, filters: ListFilters) -> Select[Any]:
    """Ids (and `search_match_type` when searching) of the matching insights, in list order."""
    statement = visible()
    if filters.saved is True:
        statement = statement.where(or_(Insight.saved.is_(True), _on_dashboard(team_id)))
    elif filters.saved is False:
        statement = statement.where(Insight.saved.is_(False))
    if filters.short_id is not None:
        statement = statement.where(Insight.short_id == filters.short_id)
    if filters.created_by_viewer:
        statement = statement.where(Insight.created_by_id == viewer.user_id)
    if filters.favorited:
        statement = statement.where(Insight.favorited.is_(True))
    if filters.modified_after is not None:
        statement = statement.where(Insight.last_modified_at > filters.modified_after)
    if filters.modified_before is not None:
        statement = statement.where(Insight.last_modified_at < filters.modified_before)
    if filters.kind is not None:
        statement = statement.where(_kind_matches(*filters.kind))
    for dashboard_id in filters.dashboards:
        statement = statement.where(_on_dashboard(team_id, dashboard_id))
    if filters.tags:
        statement = statement.where(Insight.tags.overlap(list(filters.tags)))
    if filters.created_by:
        statement = statement.where(Insight.created_by_id.in_(list(filters.created_by)))
    if filters.created_after is not None:
        statement = statement.where(Insight.created_at >= filters.created_after)
    if filters.created_before is not None:
        statement = statement.where(Insight.created_at <= filters.created_before)
    if filters.viewed_after is not None or filters.viewed_before is not None:
        statement = statement.where(
            _viewed_between(team_id, viewer.user_id, filters.viewed_after, filters.viewed_before)
        )
    ordering: list[Any] = []
    if filters.search:
        exact, rank, similar = _search_columns(filters.search)
        statement = statement.where(or_(exact, similar)).add_columns(
            case((exact, "exact"), else_="similar").label("search_match_type")
        )
        ordering = [rank]
    if filters.order:
        ordering = [_order_column(team_id, viewer, filters.order)]
    elif not filters.search:
        ordering = [Insight.order.asc().nulls_last()]
    return statement.order_by(*ordering, Insight.id)


def _order_column(team_id: int, viewer: Viewer, order: str) -> Any:
    descending = order.startswith("-")
    name = order.removeprefix("-")
    if name == "last_viewed_at":
        column: Any = (
            select(InsightViewed.last_viewed_at)
            .where(
                InsightViewed.team_id == team_id,
                InsightViewed.insight_id == Insight.id,
                InsightViewed.user_id == viewer.user_id,
            )
            .scalar_subquery()
        )
    else:
        column = ORDER_FIELDS[name]
    return column.desc().nulls_last() if descending else column.asc().nulls_last()
