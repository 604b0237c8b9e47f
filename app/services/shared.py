"""Reads through a sharing token: only the one shared object, only its result, never writes.

Modes are remapped as PostHog does for token requests: nothing a link holder sends can force an
expensive recomputation (force_cache → lazy_async, force_* → their non-forced forms).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.execution import modes
from app.execution.modes import ExecutionMode
from app.execution.runner import ExecutionContext
from app.repositories import insights as insights_repo
from app.repositories import sharing as repository
from app.repositories.insights import Viewer
from app.services import insight_queries
from app.services.insight_queries import RunContext

# A link holder is nobody in particular: no views, no per-member rules.
ANONYMOUS = Viewer(user_id=0, membership_id=None, is_admin=False)


def shared_mode(raw: str | None) -> ExecutionMode:
    requested = modes.parse_refresh(raw, default=ExecutionMode.FORCE_CACHE, allowed=modes.INSIGHT_MODES)
    return modes.for_shared_access(requested, cached_age_ok_for_force=False)


async def read(
    session: AsyncSession, execution: ExecutionContext, token: str, refresh: str | None
) -> dict[str, Any]:
    found = await repository.enabled_by_token(session, token)
    if found is None:
        raise NotFound()
    config, project = found
    mode = shared_mode(refresh)
    if config.insight_id is None:
        raise NotFound()
    row = await insights_repo.get(session, project.id, str(config.insight_id), ANONYMOUS)
    if row is None:
        raise NotFound()
    insight = row.insight
    results = await insight_queries.run(execution, project, insight, RunContext(mode))
    return {
        "insight": {
            "id": insight.id,
            "short_id": insight.short_id,
            "name": insight.name,
            "derived_name": insight.derived_name,
            "description": insight.description,
            "query": insight_queries.stored_query(insight),
            "timezone": project.timezone,
            **{
                key: results[key]
                for key in ("result", "hasMore", "last_refresh", "is_cached", "resolved_date_range")
            },
        }
    }
