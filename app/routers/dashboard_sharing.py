"""`/dashboards/:id/sharing/` and `/dashboards/:id/access_controls/`, and the dashboard template catalog."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import Response

from app.deps import AuthDep, ProjectDep, SessionDep, require_scope
from app.errors import NotFound
from app.pagination import PageDep, paginated
from app.routers.common import ViewerDep, object_id
from app.routers.gated import GatedRouter
from app.schemas.dashboards import access_level
from app.schemas.generated.dashboards import DashboardTemplate, DashboardTemplatesPage
from app.schemas.generated.insights import (
    AccessControlPut,
    AccessControlRule,
    AccessControls,
    SharingConfiguration,
    SharingPatch,
)
from app.services import access, dashboard_templates, dashboards, sharing

router = GatedRouter(prefix="/dashboards/{dashboard_id:object_id}", tags=["dashboards"])
templates_router = GatedRouter(prefix="/dashboard_templates", tags=["dashboards"])
SHARING_READ = [require_scope("sharing_configuration:read")]
SHARING_WRITE = [require_scope("sharing_configuration:write")]


@router.get("/sharing", response_model=SharingConfiguration, dependencies=SHARING_READ)
async def get_sharing(project: ProjectDep, session: SessionDep, viewer: ViewerDep, dashboard_id: str) -> Any:
    row = await dashboards.get_row(session, project, viewer, object_id(dashboard_id))
    return sharing.sharing_out(await sharing.get_or_create(session, project, dashboard_id=row.dashboard.id))


@router.patch("/sharing", response_model=SharingConfiguration, dependencies=SHARING_WRITE)
async def update_sharing(
    project: ProjectDep,
    session: SessionDep,
    auth: AuthDep,
    viewer: ViewerDep,
    dashboard_id: str,
    patch: SharingPatch,
) -> Any:
    """`{"enabled": true}` hands out a read-only link to the whole dashboard; `false` revokes it."""
    row = await dashboards.get_row(session, project, viewer, object_id(dashboard_id))
    dashboards.require_editable(row, viewer)
    config = await sharing.get_or_create(session, project, dashboard_id=row.dashboard.id)
    config = await sharing.update(
        session, project, auth.user, config, patch, scope=dashboards.SCOPE, item_id=row.dashboard.id,
        name=row.dashboard.name,
    )  # fmt: skip
    return sharing.sharing_out(config)


@router.post("/sharing/refresh", response_model=SharingConfiguration, dependencies=SHARING_WRITE)
async def refresh_sharing(
    project: ProjectDep, session: SessionDep, viewer: ViewerDep, dashboard_id: str
) -> Any:
    row = await dashboards.get_row(session, project, viewer, object_id(dashboard_id))
    dashboards.require_editable(row, viewer)
    config = await sharing.get_or_create(session, project, dashboard_id=row.dashboard.id)
    return sharing.sharing_out(await sharing.rotate(session, config))


@router.get(
    "/access_controls", response_model=AccessControls, dependencies=[require_scope("access_control:read")]
)
async def get_access_controls(
    project: ProjectDep, session: SessionDep, viewer: ViewerDep, dashboard_id: str
) -> Any:
    row = await dashboards.get_row(session, project, viewer, object_id(dashboard_id))
    return await access.describe(
        session, project, "dashboard", str(row.dashboard.id), access_level(row, viewer)
    )


@router.put(
    "/access_controls",
    response_model=AccessControlRule,
    responses={204: {"description": "The rule was removed (`access_level: null`).", "content": {}}},
    dependencies=[require_scope("access_control:write")],
)
async def put_access_control(
    project: ProjectDep,
    session: SessionDep,
    auth: AuthDep,
    viewer: ViewerDep,
    dashboard_id: str,
    body: AccessControlPut,
) -> Any:
    row = await dashboards.get_row(session, project, viewer, object_id(dashboard_id))
    rule = await access.put_rule(
        session,
        project,
        auth.user,
        resource="dashboard",
        resource_id=str(row.dashboard.id),
        user_level=access_level(row, viewer),
        access_level=body.access_level.root if body.access_level else None,
        organization_member=body.organization_member,
        role=body.role,
    )
    return Response(status_code=204) if rule is None else access.rule_out(rule)


@templates_router.get(
    "", response_model=DashboardTemplatesPage, dependencies=[require_scope("dashboard_template:read")]
)
async def list_templates(request: Request, project: ProjectDep, page: PageDep) -> Any:
    """The built-in catalog (what `use_template` accepts)."""
    templates = dashboard_templates.listing()
    return paginated(request, page, len(templates), templates[page.offset : page.offset + page.limit])


@templates_router.get(
    "/{template_id}",
    response_model=DashboardTemplate,
    dependencies=[require_scope("dashboard_template:read")],
)
async def retrieve_template(project: ProjectDep, template_id: Annotated[str, Path(max_length=200)]) -> Any:
    found = next((t for t in dashboard_templates.listing() if t["id"] == template_id), None)
    if found is None:
        raise NotFound()
    return found
