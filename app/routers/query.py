"""`/api/projects/:id/query/`: run any insight query node, poll async ones, cancel them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, status
from fastapi.responses import Response

from app.deps import ExecutionDep, ProjectDep, require_scope
from app.ratelimit import analytics_rate_limit
from app.responses import JSONResponse
from app.routers.gated import GatedRouter
from app.schemas.queries import QueryRequest
from app.services import queries

router = GatedRouter(prefix="/query", tags=["query"])
QueryId = Annotated[str, Path(min_length=1, max_length=200)]


@router.post("", dependencies=[require_scope("query:read"), analytics_rate_limit()])
async def run_query(project: ProjectDep, execution: ExecutionDep, request: QueryRequest) -> Any:
    code, body = await queries.run(execution, project, request)
    return JSONResponse(body, status_code=code)


@router.get("/{query_id}", dependencies=[require_scope("query:read")])
async def query_status(project: ProjectDep, execution: ExecutionDep, query_id: QueryId) -> Any:
    code, body = await queries.poll(execution, project, query_id)
    return JSONResponse(body, status_code=code)


@router.delete(
    "/{query_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[require_scope("query:read")]
)
async def cancel_query(project: ProjectDep, execution: ExecutionDep, query_id: QueryId) -> Response:
    await queries.stop(execution, project, query_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
