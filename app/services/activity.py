"""The activity log: entries with before/after field diffs, and its paged read (PostHog's shape).

Entries are written in the same transaction as the change they describe, so a rolled-back change
leaves no entry behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.middleware import request_url
from app.models import ActivityLog, User
from app.repositories import activity as repository

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


def change(scope: str, action: str, field: str, before: Any, after: Any) -> dict[str, Any]:
    return {"type": scope, "action": action, "field": field, "before": before, "after": after}


def changes(
    scope: str, before: Mapping[str, Any], after: Mapping[str, Any], fields: Iterable[str]
) -> list[dict[str, Any]]:
    """One `changed` entry per field whose value differs (housekeeping fields are simply not listed)."""
    return [
        change(scope, "changed", name, before.get(name), after.get(name))
        for name in fields
        if before.get(name) != after.get(name)
    ]


def record(
    session: AsyncSession,
    *,
    team_id: int,
    user: User | None,
    scope: str,
    item_id: int | str,
    activity: str,
    name: str | None,
    short_id: str | None = None,
    entry_changes: list[dict[str, Any]] | None = None,
) -> ActivityLog:
    entry = ActivityLog(
        team_id=team_id,
        user_id=user.id if user else None,
        is_system=user is None,
        activity=activity,
        scope=scope,
        item_id=str(item_id),
        detail={
            "id": str(item_id),
            "changes": entry_changes,
            "merge": None,
            "trigger": None,
            "name": name,
            "short_id": short_id,
            "type": None,
        },
    )
    session.add(entry)
    return entry


def _user(user: User | None, entry: ActivityLog) -> dict[str, Any]:
    if entry.is_system or user is None:
        return {"first_name": "System", "email": None, "is_system": True}
    return {"first_name": user.first_name, "email": user.email}


def _page_url(request: Request, limit: int, page: int) -> str:
    return str(request_url(request).include_query_params(limit=limit, page=page))


async def page(
    session: AsyncSession,
    request: Request,
    *,
    team_id: int,
    scope: str,
    item_id: str | None,
    limit: int,
    page_number: int,
) -> dict[str, Any]:
    """`{results, next, previous, total_count}`, newest first; `page` is 1-based."""
    total, rows = await repository.page(
        session, team_id, scope, item_id, limit=limit, offset=(page_number - 1) * limit
    )
    results = [
        {
            "id": str(entry.id),
            "user": _user(user, entry),
            "activity": entry.activity,
            "scope": entry.scope,
            "item_id": entry.item_id,
            "detail": entry.detail,
            "created_at": entry.created_at,
            "is_system": entry.is_system,
        }
        for entry, user in rows
    ]
    return {
        "results": results,
        "next": _page_url(request, limit, page_number + 1) if page_number * limit < total else None,
        "previous": _page_url(request, limit, page_number - 1) if page_number > 1 else None,
        "total_count": total,
    }
