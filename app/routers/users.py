"""`GET /api/users/@me/`."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import AuthDep, SessionDep, require_scope
from app.models import Organization
from app.repositories import identity
from app.schemas.generated.identity import User
from app.schemas.identity import user_out

router = APIRouter(prefix="/api/users", tags=["users"])


@router.get("/@me", dependencies=[require_scope("user:read")])
async def me(auth: AuthDep, session: SessionDep) -> User:
    memberships = await identity.organizations_of(session, auth.user.id)
    organizations = [org for m in memberships if (org := await session.get(Organization, m.organization_id))]
    team = None
    if auth.user.current_project_id is not None:
        team = await identity.get_project(session, auth.user.current_project_id)
    return user_out(auth.user, organizations, team)
