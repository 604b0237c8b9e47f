"""`/insights/:id/sharing/` and `/insights/:id/access_controls/`."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from app.deps import AuthDep, ProjectDep, SessionDep, require_scope
from app.errors import NotFound
from app.routers.common import FormatParam, ViewerDep
from app.routers.gated import GatedRouter
from app.schemas.generated.insights import (
    AccessControlPut,
    AccessControlRule,
    AccessControls,
    SharingConfiguration,
    SharingPatch,
)
from app.schemas.insights import access_level
from app.services import access, insights, sharing

router = GatedRouter(prefix="/insights/{insight_id:insight_ref}", tags=["insights"])


@router.get(
    "/sharing",
    response_model=SharingConfiguration,
    dependencies=[require_scope("sharing_configuration:read")],
)
async def get_sharing(
    project: ProjectDep, session: SessionDep, viewer: ViewerDep, insight_id: str, format: FormatParam = None
) -> Any:
    row = await insights.get_row(session, project, viewer, insight_id)
    return sharing.sharing_out(await sharing.get_or_create(session, project, insight_id=row.insight.id))


@router.patch(
    "/sharing",
    response_model=SharingConfiguration,
    dependencies=[require_scope("sharing_configuration:write")],
)
async def update_sharing(
    project: ProjectDep,
    session: SessionDep,
    auth: AuthDep,
    viewer: ViewerDep,
    insight_id: str,
    patch: SharingPatch,
    format: FormatParam = None,
) -> Any:
    """`{"enabled": true}` hands out the link; `false` revokes it (the token is rotated)."""
    row = await insights.get_row(session, project, viewer, insight_id)
    insights.require_editable(row, viewer)
    config = await sharing.get_or_create(session, project, insight_id=row.insight.id)
    insight = row.insight
    config = await sharing.update(
        session,
        project,
        auth.user,
        config,
        patch,
        scope=insights.SCOPE,
        item_id=insight.id,
        name=insight.name or insight.derived_name,
        short_id=insight.short_id,
    )
    return sharing.sharing_out(config)


@router.post(
    "/sharing/refresh",
    response_model=SharingConfiguration,
    dependencies=[require_scope("sharing_configuration:write")],
)
async def refresh_sharing(
    project: ProjectDep, session: SessionDep, viewer: ViewerDep, insight_id: str, format: FormatParam = None
) -> Any:
    """A new access token; the old link stops working."""
    row = await insights.get_row(session, project, viewer, insight_id)
    insights.require_editable(row, viewer)
    config = await sharing.get_or_create(session, project, insight_id=row.insight.id)
    return sharing.sharing_out(await sharing.rotate(session, config))


@router.get(
    "/access_controls", response_model=AccessControls, dependencies=[require_scope("access_control:read")]
)
async def get_access_controls(
    project: ProjectDep, session: SessionDep, viewer: ViewerDep, insight_id: str, format: FormatParam = None
) -> Any:
    row = await insights.get_row(session, project, viewer, insight_id)
    return await access.describe(session, project, "insight", str(row.insight.id), access_level(row, viewer))


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
    insight_id: str,
    body: AccessControlPut,
    format: FormatParam = None,
) -> Any:
    """Sets one member's level (or the insight's default, without `organization_member`); null removes it."""
    row = await insights.get_row(session, project, viewer, insight_id)
    rule = await access.put_rule(
        session,
        project,
        auth.user,
        resource="insight",
        resource_id=str(row.insight.id),
        user_level=access_level(row, viewer),
        access_level=body.access_level.root if body.access_level else None,
        organization_member=body.organization_member,
        role=body.role,
    )
    return Response(status_code=204) if rule is None else access.rule_out(rule)


@router.get("/global_access_controls", dependencies=[require_scope("access_control:read")])
async def global_access_controls(
    project: ProjectDep, session: SessionDep, viewer: ViewerDep, insight_id: str, format: FormatParam = None
) -> Any:
    """Role-wide rules exist for projects only (PostHog answers 404 for any other resource)."""
    await insights.get_row(session, project, viewer, insight_id)
    raise NotFound("Global access controls are only available for projects.")
