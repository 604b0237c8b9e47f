"""Organizations, users, projects and keys for tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import PersonalAPIKey, Project, User
from app.schemas.generated.identity import PersonalAPIKeyCreate, Scope, ScopedTeam
from app.services import identity as identity_service

_counter = itertools.count(1)


@dataclass
class Team:
    """A user, their organization's project and a personal API key for them."""

    project: Project
    user: User
    key: PersonalAPIKey
    raw_key: str

    @property
    def id(self) -> int:
        return self.project.id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.raw_key}"}


async def create_key(
    session: AsyncSession,
    user: User,
    *,
    scopes: list[str] | None = None,
    scoped_teams: list[int] | None = None,
) -> tuple[PersonalAPIKey, str]:
    request = PersonalAPIKeyCreate(
        label="test",
        scopes=[Scope(s) for s in scopes or ["*"]],
        scoped_teams=[ScopedTeam(t) for t in scoped_teams] if scoped_teams is not None else None,
    )
    return await identity_service.create_personal_api_key(session, user, request)


async def create_team(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    scopes: list[str] | None = None,
    timezone: str = "UTC",
    name: str | None = None,
) -> Team:
    n = next(_counter)
    async with sessionmaker() as session:
        user = await identity_service.create_user(session, f"user{n}@example.com")
        project = await identity_service.create_organization_with_project(
            session,
            user=user,
            organization_name=f"Org {n}",
            project_name=name or f"Project {n}",
            timezone=timezone,
        )
        key, raw = await create_key(session, user, scopes=scopes)
        await session.commit()
    return Team(project=project, user=user, key=key, raw_key=raw)


async def add_project(sessionmaker: async_sessionmaker[AsyncSession], team: Team, name: str) -> Project:
    """A second project in the same organization as `team`."""
    async with sessionmaker() as session:
        project = Project(
            organization_id=team.project.organization_id,
            name=name,
            api_token=identity_service.generate_project_token(),
        )
        session.add(project)
        await session.commit()
    return project
