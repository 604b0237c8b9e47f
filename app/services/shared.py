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
from app.models import Project
from app.repositories import dashboard_rows
from app.repositories import insights as insights_repo
from app.repositories import sharing as repository
from app.repositories.insights import Viewer
from app.services import dashboard_reads, insight_queries
from app.services.insight_queries import RunContext

# A link holder is nobody in particular (no views are recorded) and sees what was shared, all of it:
# the link is the owner's explicit decision. Responses leave out people and rights.
LINK_VIEWER = Viewer(user_id=0, membership_id=None, is_admin=True)


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
    if config.dashboard_id is not None:
        opened = await open_shared_dashboard(session, execution, project, config.dashboard_id, mode)
        return {"dashboard": await dashboard_reads.full(opened)}
    if config.insight_id is None:
        raise NotFound()
    row = await insights_repo.get(session, project.id, str(config.insight_id), LINK_VIEWER)
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


async def open_shared_dashboard(
    session: AsyncSession,
    execution: ExecutionContext,
    project: Project,
    dashboard_id: int,
    mode: ExecutionMode,
) -> dashboard_reads.OpenDashboard:
    options = dashboard_reads.ReadOptions(mode=mode)
    row = await dashboard_rows.get(session, project.id, LINK_VIEWER, dashboard_id)
    if row is None:
        raise NotFound()
    return await dashboard_reads.open_dashboard(
        session, execution, project, LINK_VIEWER, None, dashboard_id, options, row=row, public=True
    )


async def open_stream(
    session: AsyncSession, execution: ExecutionContext, token: str, refresh: str | None
) -> dashboard_reads.OpenDashboard:
    """A shared dashboard for `stream_tiles` (insight links have no stream)."""
    found = await repository.enabled_by_token(session, token)
    if found is None or found[0].dashboard_id is None:
        raise NotFound()
    config, project = found
    dashboard_id = config.dashboard_id
    assert dashboard_id is not None
    return await open_shared_dashboard(session, execution, project, dashboard_id, shared_mode(refresh))
