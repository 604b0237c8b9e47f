"""Projects, users and personal API keys: creation, updates and the idempotent bootstrap."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import generate_personal_api_key, hash_key_value, mask_key_value
from app.errors import NotFound, ValidationError
from app.models import Organization, OrganizationMembership, PersonalAPIKey, Project, User
from app.repositories import identity
from app.schemas.generated.identity import PersonalAPIKeyCreate, ProjectPatch

BOOTSTRAP_EMAIL = "admin@localhost"
NULLABLE_PROJECT_FIELDS = {"week_start_day"}


def generate_project_token() -> str:
    return "phc_" + secrets.token_urlsafe(32)


def _validate_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f'"{name}" is not a valid choice.', code="invalid_choice", attr="timezone"
        ) from None
    if name not in available_timezones() and name != "UTC":
        raise ValidationError(f'"{name}" is not a valid choice.', code="invalid_choice", attr="timezone")


async def update_project(session: AsyncSession, project: Project, patch: ProjectPatch) -> Project:
    changes = patch.model_dump(exclude_unset=True)
    for field, value in changes.items():
        if value is None and field not in NULLABLE_PROJECT_FIELDS:
            raise ValidationError("This field may not be null.", code="null", attr=field)
    if "timezone" in changes:
        _validate_timezone(changes["timezone"])
    for field, value in changes.items():
        setattr(project, field, value)
    await session.flush()
    await session.refresh(project)
    return project


async def create_organization_with_project(
    session: AsyncSession, *, user: User, organization_name: str, project_name: str, timezone: str = "UTC"
) -> Project:
    organization = Organization(name=organization_name)
    session.add(organization)
    await session.flush()
    session.add(OrganizationMembership(organization_id=organization.id, user_id=user.id, level=15))
    project = Project(
        organization_id=organization.id,
        name=project_name,
        api_token=generate_project_token(),
        timezone=timezone,
    )
    session.add(project)
    await session.flush()
    if user.current_project_id is None:
        user.current_project_id = project.id
    await session.flush()
    return project


async def create_user(session: AsyncSession, email: str, first_name: str = "") -> User:
    user = User(email=email, first_name=first_name, distinct_id=str(uuid.uuid4()))
    session.add(user)
    await session.flush()
    return user


async def create_personal_api_key(
    session: AsyncSession, user: User, request: PersonalAPIKeyCreate
) -> tuple[PersonalAPIKey, str]:
    """Returns the key and its raw value, which is never retrievable again."""
    member_of = {str(m.organization_id) for m in await identity.organizations_of(session, user.id)}
    scoped_teams = [team.root for team in request.scoped_teams or []]
    for index, team_id in enumerate(scoped_teams):
        project = await identity.get_project(session, team_id)
        if project is None or str(project.organization_id) not in member_of:
            raise ValidationError(
                f"You don't have access to project {team_id}.", attr=f"scoped_teams__{index}"
            )
    for index, org_id in enumerate(request.scoped_organizations or []):
        if str(org_id) not in member_of:
            raise ValidationError(
                f"You don't have access to organization {org_id}.", attr=f"scoped_organizations__{index}"
            )
    raw = generate_personal_api_key()
    key = PersonalAPIKey(
        user_id=user.id,
        label=request.label,
        secure_value=hash_key_value(raw),
        mask_value=mask_key_value(raw),
        scopes=[scope.root for scope in request.scopes or []] or ["*"],
        scoped_teams=scoped_teams or None,
        scoped_organizations=[str(org) for org in request.scoped_organizations or []] or None,
    )
    session.add(key)
    await session.flush()
    await session.refresh(key)
    return key, raw


async def delete_personal_api_key(session: AsyncSession, user: User, key_id: uuid.UUID) -> str:
    """Deletes the key; returns its secure value (for the caller to forget it in the auth cache)."""
    key = await identity.key_for_user(session, user.id, key_id)
    if key is None:
        raise NotFound()
    await session.delete(key)
    await session.flush()
    return key.secure_value


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    project: Project
    personal_api_key: str


async def bootstrap(session: AsyncSession) -> BootstrapResult:
    """Idempotent: the same admin user and default project every time, and a fresh all-scopes key."""
    user = await identity.user_by_email(session, BOOTSTRAP_EMAIL)
    if user is None:
        user = await create_user(session, BOOTSTRAP_EMAIL, first_name="Admin")
    project = await identity.first_project_for_user(session, user.id)
    if project is None:
        project = await create_organization_with_project(
            session, user=user, organization_name="Default organization", project_name="Default project"
        )
    _, raw = await create_personal_api_key(session, user, PersonalAPIKeyCreate(label="bootstrap"))
    return BootstrapResult(project=project, personal_api_key=raw)
