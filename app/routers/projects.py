"""`GET /api/projects/` and the project itself at `/api/projects/:id/` (and `/api/environments/:id/`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from app.deps import AuthDep, ProjectDep, SessionDep, require_scope
from app.pagination import PageDep, paginated
from app.repositories import identity
from app.schemas.generated.identity import Project, ProjectPatch
from app.schemas.identity import project_out
from app.services import identity as identity_service

router = APIRouter(prefix="/api/projects", tags=["projects"])
project_router = APIRouter(tags=["projects"])


@router.get("", dependencies=[require_scope("project:read")])
async def list_projects(
    request: Request, auth: AuthDep, session: SessionDep, page: PageDep
) -> dict[str, Any]:
    count, projects = await identity.projects_for_user(
        session, auth.user.id, auth.key.scoped_teams, page.limit, page.offset
    )
    return paginated(request, page, count, [project_out(p).model_dump(mode="json") for p in projects])


@project_router.get("", dependencies=[require_scope("project:read")])
async def retrieve_project(project: ProjectDep, session: SessionDep) -> Project:
    await session.refresh(project)  # the resource itself is read fresh, not from the auth cache
    return project_out(project)


@project_router.patch("", dependencies=[require_scope("project:write")])
async def update_project(
    request: Request, project: ProjectDep, patch: ProjectPatch, session: SessionDep
) -> Project:
    updated = await identity_service.update_project(session, project, patch)
    request.app.state.principals.clear()  # cached copies of the project (app/principals.py)
    return project_out(updated)
