"""Sharing configurations and access rules, scoped by project; token lookups for public links."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AccessControl, OrganizationMembership, Project, SharingConfiguration


async def for_insight(session: AsyncSession, team_id: int, insight_id: int) -> SharingConfiguration | None:
    statement = select(SharingConfiguration).where(
        SharingConfiguration.team_id == team_id, SharingConfiguration.insight_id == insight_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def for_dashboard(
    session: AsyncSession, team_id: int, dashboard_id: int
) -> SharingConfiguration | None:
    statement = select(SharingConfiguration).where(
        SharingConfiguration.team_id == team_id, SharingConfiguration.dashboard_id == dashboard_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def enabled_by_token(
    session: AsyncSession, access_token: str
) -> tuple[SharingConfiguration, Project] | None:
    """The one lookup not scoped by a project: the token *is* the credential that names it."""
    statement = (
        select(SharingConfiguration, Project)
        .join(Project, Project.id == SharingConfiguration.team_id)
        .where(SharingConfiguration.access_token == access_token, SharingConfiguration.enabled.is_(True))
    )
    row = (await session.execute(statement)).first()
    return None if row is None else (row[0], row[1])


async def rules(session: AsyncSession, team_id: int, resource: str, resource_id: str) -> list[AccessControl]:
    statement = (
        select(AccessControl)
        .where(
            AccessControl.team_id == team_id,
            AccessControl.resource == resource,
            AccessControl.resource_id == resource_id,
        )
        .order_by(AccessControl.id)
    )
    return list((await session.execute(statement)).scalars())


async def membership(
    session: AsyncSession, organization_id: object, user_id: int
) -> OrganizationMembership | None:
    statement = select(OrganizationMembership).where(
        OrganizationMembership.organization_id == organization_id, OrganizationMembership.user_id == user_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def membership_by_id(
    session: AsyncSession, organization_id: object, membership_id: int
) -> OrganizationMembership | None:
    statement = select(OrganizationMembership).where(
        OrganizationMembership.organization_id == organization_id, OrganizationMembership.id == membership_id
    )
    return (await session.execute(statement)).scalar_one_or_none()
