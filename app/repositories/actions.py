"""Queries for actions; every statement is scoped to one project (`team_id`)."""

from __future__ import annotations

from sqlalchemy import String, func, literal, select
from sqlalchemy import exc as sa_errors
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Action

INVALID_REGEX = "2201B"


async def list_live(session: AsyncSession, team_id: int, limit: int, offset: int) -> tuple[int, list[Action]]:
    """Actions that are not deleted, most recently changed first (PostHog: `-last_calculated_at, name`)."""
    live = (Action.team_id == team_id, Action.deleted.is_(False))
    count = (await session.execute(select(func.count()).select_from(Action).where(*live))).scalar_one()
    query = (
        select(Action)
        .where(*live)
        .order_by(Action.updated_at.desc(), Action.name, Action.id)
        .limit(limit)
        .offset(offset)
    )
    return count, list((await session.execute(query)).scalars().unique().all())


async def get(session: AsyncSession, team_id: int, action_id: int) -> Action | None:
    """Deleted actions too: PostHog still serves them by id (with `deleted: true`)."""
    query = select(Action).where(Action.team_id == team_id, Action.id == action_id)
    return (await session.execute(query)).scalars().unique().one_or_none()


async def live_action_named(
    session: AsyncSession, team_id: int, name: str, except_id: int | None
) -> int | None:
    """The id of another non-deleted action with this name, if any."""
    query = select(Action.id).where(Action.team_id == team_id, Action.name == name, Action.deleted.is_(False))
    if except_id is not None:
        query = query.where(Action.id != except_id)
    return (await session.execute(query.order_by(Action.id).limit(1))).scalar_one_or_none()


async def is_valid_regex(session: AsyncSession, pattern: str) -> bool:
    """Compile `pattern` as a Postgres regex (the dialect queries use), inside a savepoint so that a
    bad pattern does not abort the request's transaction."""
    try:
        async with session.begin_nested():
            await session.execute(select(literal("", String).bool_op("~")(literal(pattern, String))))
    except sa_errors.DBAPIError as exc:
        if _sqlstate(exc) == INVALID_REGEX:
            return False
        raise
    return True


def _sqlstate(exc: sa_errors.DBAPIError) -> str | None:
    orig = exc.orig
    state = getattr(orig, "pgcode", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    return str(state) if state else None
