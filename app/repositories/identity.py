"""Queries for organizations, users, projects and personal API keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import OrganizationMembership, PersonalAPIKey, Project, User


async def key_with_user(session: AsyncSession, secure_value: str) -> tuple[PersonalAPIKey, User] | None:
    row = (
        await session.execute(
            select(PersonalAPIKey, User)
            .join(User, User.id == PersonalAPIKey.user_id)
            .where(PersonalAPIKey.secure_value == secure_value)
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


async def touch_key(session: AsyncSession, key_id: uuid.UUID, now: datetime) -> None:
    statement = update(PersonalAPIKey).where(PersonalAPIKey.id == key_id).values(last_used_at=now)
    await session.execute(statement.execution_options(synchronize_session=False))


async def get_project(session: AsyncSession, project_id: int) -> Project | None:
    return await session.get(Project, project_id)


async def get_project_by_token(session: AsyncSession, api_token: str) -> Project | None:
    return (await session.execute(select(Project).where(Project.api_token == api_token))).scalar_one_or_none()


async def is_member(session: AsyncSession, user_id: int, organization_id: uuid.UUID) -> bool:
    found = await session.execute(
        select(OrganizationMembership.id).where(
            OrganizationMembership.user_id == user_id,
            OrganizationMembership.organization_id == organization_id,
        )
    )
    return found.first() is not None


def _user_projects(user_id: int) -> Select[Project]:
    return (
        select(Project)
        .join(OrganizationMembership, OrganizationMembership.organization_id == Project.organization_id)
        .where(OrganizationMembership.user_id == user_id)
    )


async def projects_for_user(
    session: AsyncSession, user_id: int, only_ids: list[int] | None, limit: int, offset: int
) -> tuple[int, list[Project]]:
    query = _user_projects(user_id)
    if only_ids is not None:
        query = query.where(Project.id.in_(only_ids))
    rows = (await session.execute(query.order_by(Project.id))).scalars().all()
    return len(rows), list(rows[offset : offset + limit])


async def first_project_for_user(session: AsyncSession, user_id: int) -> Project | None:
    return (await session.execute(_user_projects(user_id).order_by(Project.id).limit(1))).scalar_one_or_none()


async def keys_for_user(session: AsyncSession, user_id: int) -> list[PersonalAPIKey]:
    query = (
        select(PersonalAPIKey).where(PersonalAPIKey.user_id == user_id).order_by(PersonalAPIKey.created_at)
    )
    return list((await session.execute(query)).scalars().all())


async def key_for_user(session: AsyncSession, user_id: int, key_id: uuid.UUID) -> PersonalAPIKey | None:
    query = select(PersonalAPIKey).where(PersonalAPIKey.user_id == user_id, PersonalAPIKey.id == key_id)
    return (await session.execute(query)).scalar_one_or_none()


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()


async def organizations_of(session: AsyncSession, user_id: int) -> list[OrganizationMembership]:
    query = select(OrganizationMembership).where(OrganizationMembership.user_id == user_id)
    return list((await session.execute(query)).scalars().all())
