"""`/dashboards/` actions: tile moves and reordering, run_insights, snapshots, tags, templates, unlisted."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from fastapi.responses import Response

from app.deps import AuthDep, ExecutionDep, ProjectDep, RedisDep, SessionDep, require_scope
from app.errors import ValidationError
from app.execution.modes import ExecutionMode, parse_refresh
from app.models.dashboards import CAN_EDIT
from app.repositories import dashboards as dashboards_repo
from app.responses import JSONResponse
from app.routers.common import ViewerDep, object_id
from app.routers.gated import GatedRouter
from app.schemas.dashboards import privilege
from app.schemas.generated.dashboards import (
    AnalyzeRefreshRequest,
    AnalyzeRefreshResult,
    CreateFromTemplate,
    Dashboard,
    DashboardWrite,
    MoveTile,
    ReorderTiles,
    RunInsightsResult,
    RunInsightsText,
    SnapshotRequest,
    SnapshotResult,
    UnlistedDashboardRequest,
)
from app.schemas.generated.insights import BulkUpdateTags, BulkUpdateTagsResult
from app.services import dashboard_reads, dashboard_snapshots, dashboard_tiles, dashboards
from app.services.dashboard_reads import ReadOptions

router = GatedRouter(prefix="/dashboards", tags=["dashboards"])
READ, WRITE = [require_scope("dashboard:read")], [require_scope("dashboard:write")]
RUN_MODES = frozenset({ExecutionMode.FORCE_CACHE, ExecutionMode.BLOCKING, ExecutionMode.FORCE_BLOCKING})


async def _respond(
    session: SessionDep,
    execution: ExecutionDep,
    project: ProjectDep,
    viewer: ViewerDep,
    dashboard_id: int,
    status_code: int = 200,
) -> Response:
    opened = await dashboard_reads.open_dashboard(
        session, execution, project, viewer, None, dashboard_id, ReadOptions()
    )
    return JSONResponse(await dashboard_reads.full(opened), status_code=status_code)


async def _move(
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    viewer: ViewerDep,
    dashboard_id: str,
    body: MoveTile,
) -> Response:
    source = await dashboards.get_row(session, project, viewer, object_id(dashboard_id))
    dashboards.require_editable(source, viewer)
    target_id = body.to_dashboard or body.to_dashboard_1
    if target_id is None:
        raise ValidationError("This field is required.", code="required", attr="to_dashboard")
    target = await dashboards_repo.get(session, project.id, target_id)
    target_row = await dashboards.get_row(session, project, viewer, target_id) if target else None
    can_edit = target_row is not None and privilege(target_row, viewer) == CAN_EDIT
    await dashboard_tiles.move(session, project, source.dashboard, target, body.tile.id, can_edit)
    return await _respond(session, execution, project, viewer, source.dashboard.id)


@router.patch("/{dashboard_id:object_id}/move_tile", response_model=Dashboard, dependencies=WRITE)
async def move_tile(
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    viewer: ViewerDep,
    dashboard_id: str,
    body: MoveTile,
) -> Response:
    """Moves the tile (same id) to `to_dashboard` (or `toDashboard`); returns the *source* dashboard."""
    return await _move(project, session, execution, viewer, dashboard_id, body)


@router.post("/{dashboard_id:object_id}/move_tile", response_model=Dashboard, dependencies=WRITE)
async def move_tile_post(
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    viewer: ViewerDep,
    dashboard_id: str,
    body: MoveTile,
) -> Response:
    return await _move(project, session, execution, viewer, dashboard_id, body)


@router.post("/{dashboard_id:object_id}/reorder_tiles", response_model=Dashboard, dependencies=WRITE)
async def reorder_tiles(
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    viewer: ViewerDep,
    dashboard_id: str,
    body: ReorderTiles,
) -> Response:
    """Tiles in `tile_order` (the rest after them), packed on the grid per `layout`."""
    row = await dashboards.get_row(session, project, viewer, object_id(dashboard_id))
    dashboards.require_editable(row, viewer)
    await dashboard_tiles.reorder(
        session, project, row.dashboard, [item.root for item in body.tile_order], body.layout or "preserve"
    )
    return await _respond(session, execution, project, viewer, row.dashboard.id)


@router.get(
    "/{dashboard_id:object_id}/run_insights",
    response_model=RunInsightsResult | RunInsightsText,
    dependencies=[require_scope("query:read")],
)
async def run_insights(
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    auth: AuthDep,
    viewer: ViewerDep,
    dashboard_id: str,
    refresh: Annotated[str | None, Query(max_length=40)] = None,
    output_format: Annotated[Literal["json", "optimized"], Query()] = "optimized",
) -> Any:
    """Every insight tile's result: `json` objects, or `optimized` compact text (the default)."""
    mode = parse_refresh(refresh, default=ExecutionMode.FORCE_CACHE, allowed=RUN_MODES)
    opened = await dashboard_reads.open_dashboard(
        session, execution, project, viewer, None, object_id(dashboard_id), ReadOptions(mode=mode)
    )
    results = await dashboard_reads.run_insights(opened)
    if output_format == "json":
        return {"results": results}
    return {"results": dashboard_reads.optimized_text(results)}


@router.post("/{dashboard_id:object_id}/snapshot", response_model=SnapshotResult, dependencies=READ)
async def snapshot(
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    redis: RedisDep,
    auth: AuthDep,
    viewer: ViewerDep,
    dashboard_id: str,
    body: SnapshotRequest | None = None,
) -> Any:
    """Keeps the current (cached) state for 30 minutes; returns its `cache_key`."""
    opened = await dashboard_reads.open_dashboard(
        session, execution, project, viewer, None, object_id(dashboard_id), ReadOptions()
    )
    client_results = body.client_results if body else None
    return {"cache_key": await dashboard_snapshots.snapshot(redis, opened, auth.user.id, client_results)}


@router.post(
    "/{dashboard_id:object_id}/analyze_refresh_result", response_model=AnalyzeRefreshResult, dependencies=READ
)
async def analyze_refresh_result(
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    redis: RedisDep,
    auth: AuthDep,
    viewer: ViewerDep,
    dashboard_id: str,
    body: AnalyzeRefreshRequest,
) -> Any:
    """What changed since the snapshot: per tile and series, before, after and the delta."""
    opened = await dashboard_reads.open_dashboard(
        session, execution, project, viewer, None, object_id(dashboard_id), ReadOptions()
    )
    return await dashboard_snapshots.analyze(redis, opened, auth.user.id, body.cache_key)


@router.post("/bulk_update_tags", response_model=BulkUpdateTagsResult, dependencies=WRITE)
async def bulk_update_tags(
    project: ProjectDep, session: SessionDep, auth: AuthDep, viewer: ViewerDep, body: BulkUpdateTags
) -> Any:
    return await dashboards.bulk_update_tags(session, project, auth.user, viewer, body)


@router.post("/create_from_template_json", status_code=201, response_model=Dashboard, dependencies=WRITE)
async def create_from_template_json(
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    auth: AuthDep,
    viewer: ViewerDep,
    body: CreateFromTemplate,
) -> Response:
    """The dashboard (creation_mode `template`) and one insight per insight tile; nothing on failure."""
    template = body.template.model_dump(mode="json", exclude_none=True)
    dashboard_id = await dashboards.create(
        session,
        project,
        auth.user,
        viewer,
        DashboardWrite(name=body.template.template_name),
        template=template,
    )
    return await _respond(session, execution, project, viewer, dashboard_id, 201)


@router.post("/create_unlisted_dashboard", status_code=201, response_model=Dashboard, dependencies=WRITE)
async def create_unlisted_dashboard(
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    auth: AuthDep,
    viewer: ViewerDep,
    body: UnlistedDashboardRequest,
) -> Response:
    """A product's own dashboard, one per tag per project (409 when it exists)."""
    dashboard_id = await dashboards.create_unlisted(session, project, auth.user, viewer, body.tag)
    return await _respond(session, execution, project, viewer, dashboard_id, 201)
