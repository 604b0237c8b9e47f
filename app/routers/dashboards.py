"""`/dashboards/`: list, create, retrieve (tiles with results), update (tiles, soft delete), 405 on DELETE."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from app.deps import AuthDep, ExecutionDep, ProjectDep, SessionDep, require_scope
from app.execution.modes import INSIGHT_MODES, ExecutionMode, parse_refresh
from app.models import User
from app.pagination import PageDep, paginated
from app.ratelimit import enforce_analytics_limit
from app.repositories import dashboard_rows
from app.responses import JSONResponse
from app.routers.common import ViewerDep, json_object, object_id
from app.routers.gated import GatedRouter
from app.schemas import dashboards as serializers
from app.schemas.generated.dashboards import Dashboard, DashboardsPage, DashboardWrite
from app.services import dashboard_reads, dashboard_tiles, dashboards
from app.services.dashboard_reads import ReadOptions
from app.services.tags import tags_param

router = GatedRouter(prefix="/dashboards", tags=["dashboards"])
READ, WRITE = [require_scope("dashboard:read")], [require_scope("dashboard:write")]
DashboardId = Annotated[str, "dashboard id"]
TRUTHY = {"true", "1", "yes"}


async def read_options(
    request: Request,
    auth: AuthDep,
    refresh: Annotated[str | None, Query(max_length=40)] = None,
    filters_override: Annotated[str | None, Query(max_length=4000)] = None,
    variables_override: Annotated[str | None, Query(max_length=4000)] = None,
    layoutSize: Annotated[str | None, Query(max_length=10)] = None,  # noqa: N803 - PostHog's name
    layout_size: Annotated[str | None, Query(max_length=10)] = None,
) -> ReadOptions:
    """`refresh` as on insights (default force_cache), filter/variable overrides, the layout to sort by."""
    mode = parse_refresh(refresh, default=ExecutionMode.FORCE_CACHE, allowed=INSIGHT_MODES)
    if mode is not ExecutionMode.FORCE_CACHE:
        await enforce_analytics_limit(request, auth)
    return ReadOptions(
        mode=mode,
        filters_override=json_object(filters_override, "filters_override"),
        variables_override=json_object(variables_override, "variables_override"),
        layout_size=dashboard_tiles.layout_size(layoutSize or layout_size),
    )


OptionsDep = Annotated[ReadOptions, Depends(read_options)]


async def _full(
    session: SessionDep,
    execution: ExecutionDep,
    project: ProjectDep,
    viewer: ViewerDep,
    user: User | None,
    dashboard_id: int,
    options: ReadOptions,
    status_code: int = 200,
) -> Response:
    """The full dashboard; with `user`, the read counts as their view (retrieve, not create)."""
    opened = await dashboard_reads.open_dashboard(
        session, execution, project, viewer, user, dashboard_id, options
    )
    return JSONResponse(await dashboard_reads.full(opened), status_code=status_code)


@router.get("", response_model=DashboardsPage, dependencies=READ)
async def list_dashboards(
    request: Request,
    project: ProjectDep,
    session: SessionDep,
    viewer: ViewerDep,
    page: PageDep,
    search: Annotated[str | None, Query(max_length=200)] = None,
    tags: Annotated[str | None, Query(max_length=2000, description="JSON list or a,b")] = None,
    pinned: Annotated[str | None, Query(max_length=10)] = None,
    creation_mode: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """Pinned first, then by name; unlisted dashboards only with `creation_mode=unlisted`."""
    filters = dashboard_rows.ListFilters(
        search=search or None,
        tags=tuple(tags_param(tags)),
        pinned=None if pinned is None else pinned.lower() in TRUTHY,
        unlisted=creation_mode == "unlisted",
    )
    count, rows = await dashboard_rows.page(session, project.id, viewer, filters, page.limit, page.offset)
    return JSONResponse(paginated(request, page, count, [serializers.basic(row, viewer) for row in rows]))


@router.post("", status_code=201, response_model=Dashboard, dependencies=WRITE)
async def create_dashboard(
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    auth: AuthDep,
    viewer: ViewerDep,
    body: DashboardWrite,
) -> Response:
    """Plain, from `use_template`, or a duplicate of `use_dashboard` (deep with `duplicate_tiles`)."""
    dashboard_id = await dashboards.create(session, project, auth.user, viewer, body)
    return await _full(session, execution, project, viewer, None, dashboard_id, ReadOptions(), 201)


@router.get("/{dashboard_id:object_id}", response_model=Dashboard, dependencies=READ)
async def retrieve_dashboard(
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    auth: AuthDep,
    viewer: ViewerDep,
    dashboard_id: DashboardId,
    options: OptionsDep,
) -> Response:
    """Tiles in layout order with their results under the dashboard's filters."""
    return await _full(session, execution, project, viewer, auth.user, object_id(dashboard_id), options)


async def _update(
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    auth: AuthDep,
    viewer: ViewerDep,
    dashboard_id: str,
    body: DashboardWrite,
) -> Response:
    updated = await dashboards.update(session, project, auth.user, viewer, object_id(dashboard_id), body)
    row = await dashboards.get_row(session, project, viewer, updated, include_deleted=True)
    opened = await dashboard_reads.open_dashboard(
        session, execution, project, viewer, None, updated, ReadOptions(), row=row
    )
    return JSONResponse(await dashboard_reads.full(opened))


@router.patch("/{dashboard_id:object_id}", response_model=Dashboard, dependencies=WRITE)
async def update_dashboard(
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    auth: AuthDep,
    viewer: ViewerDep,
    dashboard_id: DashboardId,
    body: DashboardWrite,
) -> Response:
    """Fields, `tiles` edits, `{"deleted": true}` (with `delete_insights`) and `{"deleted": false}`."""
    return await _update(project, session, execution, auth, viewer, dashboard_id, body)


@router.put("/{dashboard_id:object_id}", response_model=Dashboard, dependencies=WRITE)
async def replace_dashboard(
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    auth: AuthDep,
    viewer: ViewerDep,
    dashboard_id: DashboardId,
    body: DashboardWrite,
) -> Response:
    return await _update(project, session, execution, auth, viewer, dashboard_id, body)


@router.delete(
    "/{dashboard_id:object_id}",
    status_code=405,
    response_class=Response,
    responses={
        405: {"description": "Always, with no body: soft delete by PATCH deleted=true.", "content": {}}
    },
    dependencies=WRITE,
)
async def delete_dashboard(project: ProjectDep, dashboard_id: DashboardId) -> Any:
    """Hard delete is not allowed; PostHog answers a bare 405 (no body)."""
    return Response(status_code=405)
