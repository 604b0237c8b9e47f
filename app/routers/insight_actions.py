"""`/insights/` actions: activity, views, cancel, bulk tags, generated names, analysis and suggestions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Query, Request
from fastapi.responses import Response

from app.deps import AuthDep, ExecutionDep, ProjectDep, SessionDep, require_scope
from app.errors import ValidationError
from app.execution.modes import ExecutionMode
from app.execution.runner import cancel
from app.ratelimit import analytics_rate_limit
from app.repositories import insights as repository
from app.responses import JSONResponse
from app.routers.common import FormatParam, ViewerDep
from app.routers.gated import GatedRouter
from app.schemas import insights as serializers
from app.schemas.generated.insights import (
    ActivityPage,
    BulkUpdateTags,
    BulkUpdateTagsResult,
    InsightAnalysis,
    InsightBasic,
    InsightCancel,
    InsightMetadata,
    InsightName,
    InsightQueryBody,
    InsightSuggestion,
    InsightsViewed,
)
from app.services import activity, insight_analysis, insight_naming, insight_queries, insights
from app.services.insight_queries import RunContext

router = GatedRouter(prefix="/insights", tags=["insights"])
READ, WRITE = [require_scope("insight:read")], [require_scope("insight:write")]
Limit = Annotated[int, Query(ge=1, le=activity.MAX_PAGE_SIZE)]
PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]
LAST_VIEWED = 5


@router.get("/activity", response_model=ActivityPage, dependencies=[require_scope("activity_log:read")])
async def all_activity(
    request: Request,
    project: ProjectDep,
    session: SessionDep,
    limit: Limit = activity.DEFAULT_PAGE_SIZE,
    page: PageNumber = 1,
    format: FormatParam = None,
) -> Any:
    """Every insight's activity in the project, newest first."""
    return await activity.page(
        session,
        request,
        team_id=project.id,
        scope=insights.SCOPE,
        item_id=None,
        limit=limit,
        page_number=page,
    )


@router.get(
    "/{insight_id:insight_ref}/activity",
    response_model=ActivityPage,
    dependencies=[require_scope("activity_log:read")],
)
async def insight_activity(
    request: Request,
    project: ProjectDep,
    session: SessionDep,
    viewer: ViewerDep,
    insight_id: str,
    limit: Limit = activity.DEFAULT_PAGE_SIZE,
    page: PageNumber = 1,
    format: FormatParam = None,
) -> Any:
    row = await insights.get_row(session, project, viewer, insight_id)
    return await activity.page(
        session,
        request,
        team_id=project.id,
        scope=insights.SCOPE,
        item_id=str(row.insight.id),
        limit=limit,
        page_number=page,
    )


@router.post("/viewed", status_code=201, response_class=Response, dependencies=READ)
async def insights_viewed(
    project: ProjectDep, session: SessionDep, auth: AuthDep, body: InsightsViewed, format: FormatParam = None
) -> Response:
    """Records views for the project's live insights among `insight_ids`; other ids are ignored."""
    await insights.record_viewed(session, project, auth.user, [item.root for item in body.insight_ids])
    return Response(status_code=201)


@router.post("/{insight_id:insight_ref}/viewed", status_code=201, response_class=Response, dependencies=READ)
async def insight_viewed(
    project: ProjectDep,
    session: SessionDep,
    auth: AuthDep,
    viewer: ViewerDep,
    insight_id: str,
    format: FormatParam = None,
) -> Response:
    row = await insights.get_row(session, project, viewer, insight_id)
    await insights.record_viewed(session, project, auth.user, [row.insight.id])
    return Response(status_code=201)


@router.get(
    "/my_last_viewed", response_model=list[InsightBasic], dependencies=[require_scope("insight:read")]
)
async def my_last_viewed(
    project: ProjectDep, session: SessionDep, viewer: ViewerDep, format: FormatParam = None
) -> Any:
    """The caller's 5 most recently viewed insights, newest first (a plain list)."""
    ids = await repository.last_viewed_ids(session, project.id, viewer, LAST_VIEWED)
    rows = await repository.load_rows(session, project.id, viewer, ids)
    return JSONResponse([serializers.basic(rows[i], viewer) for i in ids if i in rows])


@router.post("/cancel", status_code=201, response_class=Response, dependencies=WRITE)
async def cancel_query(
    project: ProjectDep, execution: ExecutionDep, body: InsightCancel, format: FormatParam = None
) -> Response:
    """Stops the query running under `client_query_id` (its Postgres statement too)."""
    await cancel(execution, project.id, body.client_query_id)
    return Response(status_code=201)


@router.post(
    "/bulk_update_tags", response_model=BulkUpdateTagsResult, dependencies=[require_scope("insight:write")]
)
async def bulk_update_tags(
    project: ProjectDep,
    session: SessionDep,
    auth: AuthDep,
    viewer: ViewerDep,
    body: BulkUpdateTags,
    format: FormatParam = None,
) -> Any:
    return await insights.bulk_update_tags(session, project, auth.user, viewer, body)


def _source_from(body: InsightQueryBody) -> dict[str, Any]:
    if body.query is None:
        raise ValidationError("Missing 'query' field in request body", code="required", attr="query")
    if not isinstance(body.query, dict):
        raise ValidationError("Invalid query format", attr="query")
    return insight_queries.canonical_source(body.query)


@router.post("/generate_name", response_model=InsightName, dependencies=[require_scope("insight:write")])
async def generate_name(project: ProjectDep, body: InsightQueryBody, format: FormatParam = None) -> Any:
    """A deterministic name for the query, e.g. "Pageview count by browser, last 30 days"."""
    return {"name": insight_naming.name(_source_from(body))}


@router.post(
    "/generate_metadata", response_model=InsightMetadata, dependencies=[require_scope("insight:write")]
)
async def generate_metadata(project: ProjectDep, body: InsightQueryBody, format: FormatParam = None) -> Any:
    source = _source_from(body)
    return {"name": insight_naming.name(source), "description": insight_naming.description(source)}


async def _analysis(
    project: ProjectDep, session: SessionDep, execution: ExecutionDep, viewer: ViewerDep, insight_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(source, analysis) of the insight's current result (cached when fresh, computed otherwise)."""
    row = await insights.get_row(session, project, viewer, insight_id)
    query = insight_queries.stored_query(row.insight)
    if query is None:
        raise ValidationError("This insight has no query to analyze.", attr="query")
    results = await insight_queries.run(execution, project, row.insight, RunContext(ExecutionMode.BLOCKING))
    source = insight_queries.canonical_source(query)
    return source, insight_analysis.analyze(source, results["result"])


@router.get(
    "/{insight_id:insight_ref}/analyze",
    response_model=InsightAnalysis,
    dependencies=[require_scope("insight:read"), analytics_rate_limit()],
)
async def analyze(
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    viewer: ViewerDep,
    insight_id: str,
    format: FormatParam = None,
) -> Any:
    """Trend direction and % change, biggest breakdown movers, funnel drop-off, anomalies (> 3 sd)."""
    source, analysis = await _analysis(project, session, execution, viewer, insight_id)
    text = insight_analysis.summary(source, analysis)
    return {"result": text, "summary": text, "analysis": analysis}


@router.get(
    "/{insight_id:insight_ref}/suggestions",
    response_model=list[InsightSuggestion],
    dependencies=[require_scope("insight:read"), analytics_rate_limit()],
)
async def suggestions(
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    viewer: ViewerDep,
    insight_id: str,
    format: FormatParam = None,
) -> Any:
    source, analysis = await _analysis(project, session, execution, viewer, insight_id)
    return insight_analysis.suggestions(source, analysis)


@router.post(
    "/{insight_id:insight_ref}/suggestions",
    response_model=list[InsightSuggestion],
    dependencies=[require_scope("insight:read"), analytics_rate_limit()],
)
async def suggestions_with_context(
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    viewer: ViewerDep,
    insight_id: str,
    body: Annotated[dict[str, Any] | None, Body()] = None,
    format: FormatParam = None,
) -> Any:
    """As GET; an optional `{"context": ...}` body is accepted (the suggestions come from the data)."""
    source, analysis = await _analysis(project, session, execution, viewer, insight_id)
    return insight_analysis.suggestions(source, analysis)
