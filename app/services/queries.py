"""The `/query` endpoints' rules: run a query in the requested mode, poll it, cancel it.

Query ids are scoped by project in every Redis key, so a key can only ever see its own project's queries.
"""

from __future__ import annotations

from typing import Any

from app.errors import APIError, NotFound
from app.execution import modes
from app.execution.runner import ExecutionContext, cancel, execute
from app.execution.status import QueryStatus
from app.models import Project
from app.models.base import utcnow
from app.query.api import TeamContext, parse_query, prepare_query
from app.schemas.queries import QueryRequest


class QueryFailed(APIError):
    status_code = 500
    type = "server_error"
    code = "query_failed"
    default_detail = "The query failed."


async def run(ctx: ExecutionContext, project: Project, request: QueryRequest) -> tuple[int, dict[str, Any]]:
    """Response status and body: 202 while an async query is still running, else 200."""
    mode = modes.for_query_endpoint(request.refresh, request.async_)
    node = parse_query(request.query)
    prepared = prepare_query(
        node, TeamContext.from_project(project), now=utcnow(), filters_override=request.filters_override
    )
    body = await execute(ctx, prepared, mode, query_id=request.client_query_id)
    status = body.get("query_status")
    return (202 if status and not status["complete"] else 200), body


def _status_code(status: QueryStatus) -> int:
    if not status.complete:
        return 202
    if status.error:
        return 400 if status.error_message else 500
    return 200


async def poll(ctx: ExecutionContext, project: Project, query_id: str) -> tuple[int, dict[str, Any]]:
    status = await ctx.statuses.load(project.id, query_id)
    if status is None:
        raise NotFound("Query not found.", code="query_not_found")
    return _status_code(status), {"query_status": status.model_dump(mode="json")}


async def stop(ctx: ExecutionContext, project: Project, query_id: str) -> None:
    """Cancel a queued or running query; its status then reads `error_message: "Query cancelled"`."""
    if not await cancel(ctx, project.id, query_id):
        raise NotFound("Query not found.", code="query_not_found")
