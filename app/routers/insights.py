"""`/insights/`: list, create, retrieve (by id or short_id), update, and the bare 405 on DELETE."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from app.csv_export import csv_response, wants_csv
from app.deps import MAX_ID, AuthDep, ExecutionDep, ProjectDep, SessionDep, require_scope
from app.execution.modes import INSIGHT_MODES, ExecutionMode, parse_refresh
from app.pagination import PageDep, paginated
from app.ratelimit import enforce_analytics_limit
from app.responses import JSONResponse
from app.routers.common import FormatParam, ProjectReader, ViewerDep, json_object, project_reader
from app.routers.gated import GatedRouter
from app.schemas import insights as serializers
from app.schemas.generated.insights import Insight, InsightsPage, InsightWrite
from app.services import insight_lists, insight_queries, insights
from app.services.insight_queries import RunContext

router = GatedRouter(prefix="/insights", tags=["insights"])
WRITE = [require_scope("insight:write")]
# The reads take one dependency for auth, scope, project and viewer (see `project_reader`).
Reader = Annotated[ProjectReader, project_reader("insight:read")]
CSV = {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "JSON, or CSV (format=csv)"}
InsightRef = Annotated[str, "insight id or short_id"]
Refresh = Annotated[
    str | None,
    Query(
        max_length=40,
        description="force_cache (default), blocking, force_blocking, async, lazy_async, force_async; "
        "true = force_blocking.",
    ),
]


async def list_params(
    short_id: Annotated[str | None, Query(max_length=12)] = None,
    created_by: Annotated[str | None, Query(max_length=2000, description="JSON list of user ids")] = None,
    basic: Annotated[str | None, Query(max_length=10)] = None,
    saved: Annotated[str | None, Query(max_length=10)] = None,
    favorited: Annotated[str | None, Query(max_length=10)] = None,
    user: Annotated[str | None, Query(max_length=10)] = None,
    search: Annotated[str | None, Query(max_length=1000)] = None,
    dashboards: Annotated[str | None, Query(max_length=2000, description="JSON list of ids")] = None,
    tags: Annotated[str | None, Query(max_length=2000, description="JSON list of tags")] = None,
    insight: Annotated[str | None, Query(max_length=20, description="TRENDS, FUNNELS, ...")] = None,
    date_from: Annotated[str | None, Query(max_length=64)] = None,
    date_to: Annotated[str | None, Query(max_length=64)] = None,
    created_date_from: Annotated[str | None, Query(max_length=64)] = None,
    created_date_to: Annotated[str | None, Query(max_length=64)] = None,
    last_viewed_date_from: Annotated[str | None, Query(max_length=64)] = None,
    last_viewed_date_to: Annotated[str | None, Query(max_length=64)] = None,
    order: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, str]:
    """The list's filters (documented here; parsed and validated by the service)."""
    return {name: value for name, value in locals().items() if value is not None}


async def refresh_mode(request: Request, reader: Reader, refresh: Refresh = None) -> ExecutionMode:
    mode = parse_refresh(refresh, default=ExecutionMode.FORCE_CACHE, allowed=INSIGHT_MODES)
    if mode is not ExecutionMode.FORCE_CACHE:
        await enforce_analytics_limit(request, reader.auth)
    return mode


ModeDep = Annotated[ExecutionMode, Depends(refresh_mode)]


@router.get("", response_model=InsightsPage, responses={200: CSV})
async def list_insights(
    request: Request,
    reader: Reader,
    session: SessionDep,
    execution: ExecutionDep,
    page: PageDep,
    mode: ModeDep,
    params: Annotated[dict[str, str], Depends(list_params)],
    format: FormatParam = None,
) -> Response:
    project = reader.project
    count, results = await insight_lists.page(
        session,
        execution,
        project,
        reader.viewer,
        insight_lists.parse_filters(params, project),
        limit=page.limit,
        offset=page.offset,
        basic=(params.get("basic") or "").lower() in insight_lists.TRUTHY,
        run_context=RunContext(mode),
    )
    if wants_csv(request, format):
        return csv_response(results)
    return JSONResponse(paginated(request, page, count, results))


@router.post("", status_code=201, response_model=Insight, responses={201: CSV}, dependencies=WRITE)
async def create_insight(
    request: Request,
    project: ProjectDep,
    session: SessionDep,
    auth: AuthDep,
    viewer: ViewerDep,
    body: InsightWrite,
    format: FormatParam = None,
) -> Response:
    insight_id = await insights.create(session, project, auth.user, viewer, body)
    row = await insights.get_row(session, project, viewer, str(insight_id))
    payload = serializers.full(row, viewer, project.timezone)
    return csv_response([payload], 201) if wants_csv(request, format) else JSONResponse(payload, 201)


@router.get("/{insight_id:insight_ref}", response_model=Insight, responses={200: CSV})
async def retrieve_insight(
    request: Request,
    reader: Reader,
    execution: ExecutionDep,
    insight_id: InsightRef,
    mode: ModeDep,
    from_dashboard: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    filters_override: Annotated[str | None, Query(max_length=4000)] = None,
    variables_override: Annotated[str | None, Query(max_length=4000)] = None,
    client_query_id: Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[\w.:-]+$")] = None,
    format: FormatParam = None,
) -> Response:
    project, viewer = reader.project, reader.viewer
    row = await insights.read_row(execution.engine, project, viewer, insight_id)
    # Variables only affect HogQL queries, which insights here never hold; still validated as PostHog does.
    json_object(variables_override, "variables_override")
    filters, tile = await insight_queries.dashboard_context(
        request.app.state.read_sessionmaker,
        project,
        row.insight.id,
        from_dashboard,
        json_object(filters_override, "filters_override"),
    )
    results = await insight_queries.run(
        execution, project, row.insight, RunContext(mode, filters, from_dashboard, client_query_id)
    )
    payload = serializers.full(row, viewer, project.timezone, results, tile)
    return csv_response([payload]) if wants_csv(request, format) else JSONResponse(payload)


async def _update(
    request: Request,
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    auth: AuthDep,
    viewer: ViewerDep,
    insight_id: str,
    body: InsightWrite,
    format: str | None,
) -> Response:
    updated_id = await insights.update(session, project, auth.user, viewer, insight_id, body)
    row = await insights.get_row(session, project, viewer, str(updated_id), include_deleted=True)
    results = await insight_queries.run(
        execution, project, row.insight, RunContext(ExecutionMode.FORCE_CACHE)
    )
    payload = serializers.full(row, viewer, project.timezone, results)
    return csv_response([payload]) if wants_csv(request, format) else JSONResponse(payload)


@router.patch("/{insight_id:insight_ref}", response_model=Insight, responses={200: CSV}, dependencies=WRITE)
async def update_insight(
    request: Request,
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    auth: AuthDep,
    viewer: ViewerDep,
    insight_id: InsightRef,
    body: InsightWrite,
    format: FormatParam = None,
) -> Response:
    """Partial update; `{"deleted": true}` soft-deletes, `{"deleted": false}` restores."""
    return await _update(request, project, session, execution, auth, viewer, insight_id, body, format)


@router.put("/{insight_id:insight_ref}", response_model=Insight, responses={200: CSV}, dependencies=WRITE)
async def replace_insight(
    request: Request,
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    auth: AuthDep,
    viewer: ViewerDep,
    insight_id: InsightRef,
    body: InsightWrite,
    format: FormatParam = None,
) -> Response:
    return await _update(request, project, session, execution, auth, viewer, insight_id, body, format)


@router.delete(
    "/{insight_id:insight_ref}",
    status_code=405,
    response_class=Response,
    responses={
        405: {"description": "Always, with no body: soft delete by PATCH deleted=true.", "content": {}}
    },
    dependencies=WRITE,
)
async def delete_insight(project: ProjectDep, insight_id: InsightRef) -> Any:
    """Hard delete is not allowed; PostHog answers a bare 405 (no body)."""
    return Response(status_code=405)
