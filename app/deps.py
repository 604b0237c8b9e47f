"""Request-scoped dependencies: the write session, authentication, scopes and the project.

Transactions: `SessionDep` commits after the endpoint returns and *before* the response is sent
(`scope="function"`), so a client never sees a success for work that was not committed; any
exception rolls back. GET and HEAD requests run in autocommit mode instead: their statements are
reads (each one takes its own snapshot under READ COMMITTED anyway) or single-statement bookkeeping
(`last_used_at`, last viewed), and skipping BEGIN/COMMIT saves two of their three round trips.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth import AuthContext, authenticate
from app.errors import NotFound, PermissionDenied
from app.execution.runner import ExecutionContext
from app.models import Project
from app.principals import ProjectAccess
from app.repositories import identity, sharing
from app.settings import Settings

READ_METHODS = frozenset(("GET", "HEAD"))


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    state = request.app.state
    sessionmaker: async_sessionmaker[AsyncSession] = (
        state.read_sessionmaker if request.method in READ_METHODS else state.sessionmaker
    )
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_redis(request: Request) -> Redis:
    redis: Redis = request.app.state.redis
    return redis


RedisDep = Annotated[Redis, Depends(get_redis)]


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def get_execution(request: Request) -> ExecutionContext:
    execution: ExecutionContext = request.app.state.execution
    return execution


ExecutionDep = Annotated[ExecutionContext, Depends(get_execution)]


async def get_auth(request: Request, session: SessionDep) -> AuthContext:
    return await authenticate(request, session)


AuthDep = Annotated[AuthContext, Depends(get_auth)]


def require_scope(scope: str) -> Any:
    """A route dependency: `dependencies=[require_scope("insight:read")]`."""

    async def check_scope(auth: AuthDep) -> None:
        auth.require(scope)

    return Depends(check_scope)


MAX_ID = 2**31 - 1


def parse_id(raw: str) -> int | None:
    """A path id as a positive int4, or None (→ 404) for anything else, including overflowing numbers."""
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID else None


async def project_access(request: Request, auth: AuthContext) -> ProjectAccess:
    """The project named by `:project_id` / `:environment_id` (an id or `@current`), if the key may use
    it, with the user's membership; remembered with the key (see `app.principals`), loaded on a miss
    in a short session of its own."""
    raw = request.path_params.get("project_id") or request.path_params.get("environment_id", "")

    async def load() -> ProjectAccess:
        async with request.app.state.read_sessionmaker() as session:
            return await _load_access(session, auth, raw)

    return await auth.principal.load_project(raw, load)


async def get_project_access(request: Request, auth: AuthDep) -> ProjectAccess:
    return await project_access(request, auth)


ProjectAccessDep = Annotated[ProjectAccess, Depends(get_project_access)]


async def attached_project(access: ProjectAccess, session: AsyncSession) -> Project:
    """The cached (detached, shared) project as this request's own copy, in its session (no SQL)."""
    return await session.merge(access.project, load=False)


async def get_project(access: ProjectAccessDep, session: SessionDep) -> Project:
    return await attached_project(access, session)


async def _load_access(session: AsyncSession, auth: AuthContext, raw: str) -> ProjectAccess:
    project: Project | None
    if raw == "@current":
        project = await _current_project(session, auth)
    else:
        project_id = parse_id(raw)
        if project_id is None:
            raise NotFound()
        project = await identity.get_project(session, project_id)
        if project is None:
            raise NotFound()
    if auth.key.scoped_teams and project.id not in auth.key.scoped_teams:
        raise PermissionDenied(f"API key does not have access to the requested project: ID {project.id}.")
    if auth.key.scoped_organizations and str(project.organization_id) not in auth.key.scoped_organizations:
        raise PermissionDenied(
            f"API key does not have access to the requested organization: ID {project.organization_id}."
        )
    membership = await sharing.membership(session, project.organization_id, auth.user.id)
    if membership is None:
        raise PermissionDenied("You don't have access to the project.")
    session.expunge(project)
    return ProjectAccess(project, membership.id, membership.level)


async def _current_project(session: AsyncSession, auth: AuthContext) -> Project:
    if auth.key.scoped_teams:
        project = await identity.get_project(session, auth.key.scoped_teams[0])
    elif auth.user.current_project_id is not None:
        project = await identity.get_project(session, auth.user.current_project_id)
    else:
        project = await identity.first_project_for_user(session, auth.user.id)
    if project is None:
        raise NotFound()
    return project


ProjectDep = Annotated[Project, Depends(get_project)]


async def declare_project_id(
    project_id: Annotated[str, Path(description="Project id or `@current`.")],
) -> None:
    """Documents the path parameter of `/api/projects/{project_id}/...`; `get_project` reads it."""


async def declare_environment_id(
    environment_id: Annotated[
        str, Path(description="Environment id (equal to the project id) or `@current`.")
    ],
) -> None:
    """Documents the path parameter of `/api/environments/{environment_id}/...`."""
