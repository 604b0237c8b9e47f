"""`/api/projects/:id/actions/`: list, create, retrieve, update. No DELETE (405): PATCH `deleted`."""

from __future__ import annotations

from fastapi import Request, status

from app.deps import AuthDep, ProjectDep, SessionDep, parse_id, require_scope
from app.errors import NotFound
from app.models import Action as ActionRow
from app.models import Project
from app.pagination import PageDep, paginated
from app.repositories import actions as repository
from app.routers.gated import GatedRouter
from app.schemas.actions import action_out
from app.schemas.generated.actions import Action, ActionCreate, ActionPatch, PaginatedActionList
from app.services import actions as service

router = GatedRouter(prefix="/actions", tags=["actions"])


async def _get(session: SessionDep, project: Project, action_id: str) -> ActionRow:
    found = await repository.get(session, project.id, number) if (number := parse_id(action_id)) else None
    if found is None:
        raise NotFound()
    return found


@router.get("", dependencies=[require_scope("action:read")])
async def list_actions(
    request: Request, project: ProjectDep, session: SessionDep, page: PageDep
) -> PaginatedActionList:
    count, rows = await repository.list_live(session, project.id, page.limit, page.offset)
    body = paginated(request, page, count, [action_out(row) for row in rows])
    return PaginatedActionList.model_validate(body)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[require_scope("action:write")])
async def create_action(
    project: ProjectDep, auth: AuthDep, session: SessionDep, body: ActionCreate
) -> Action:
    return action_out(await service.create(session, project, auth.user, body))


@router.get("/{action_id}", dependencies=[require_scope("action:read")])
async def retrieve_action(project: ProjectDep, session: SessionDep, action_id: str) -> Action:
    return action_out(await _get(session, project, action_id))


@router.patch("/{action_id}", dependencies=[require_scope("action:write")])
async def update_action(
    project: ProjectDep, session: SessionDep, action_id: str, body: ActionPatch
) -> Action:
    return action_out(await service.update(session, await _get(session, project, action_id), body))


@router.put("/{action_id}", dependencies=[require_scope("action:write")])
async def replace_action(
    project: ProjectDep, session: SessionDep, action_id: str, body: ActionCreate
) -> Action:
    return action_out(await service.update(session, await _get(session, project, action_id), body))
