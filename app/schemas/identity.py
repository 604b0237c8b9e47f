"""ORM → wire mappers for identity objects."""

from __future__ import annotations

from app.models import Organization, PersonalAPIKey, Project, User
from app.schemas.generated import identity as wire


def project_out(project: Project) -> wire.Project:
    return wire.Project(
        id=project.id,
        uuid=project.uuid,
        organization=project.organization_id,
        api_token=project.api_token,
        name=project.name,
        timezone=project.timezone,
        week_start_day=project.week_start_day,
        test_account_filters=project.test_account_filters,
        test_account_filters_default_checked=project.test_account_filters_default_checked,
        is_demo=project.is_demo,
        created_at=project.created_at,
    )


def user_out(user: User, organizations: list[Organization], team: Project | None) -> wire.User:
    return wire.User(
        id=user.id,
        uuid=user.uuid,
        distinct_id=user.distinct_id,
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        is_staff=user.is_staff,
        organizations=[wire.OrganizationBasic(id=org.id, name=org.name) for org in organizations],
        team=project_out(team) if team else None,
    )


def personal_api_key_out(key: PersonalAPIKey, raw_value: str | None = None) -> wire.PersonalAPIKey:
    return wire.PersonalAPIKey(
        id=key.id,
        label=key.label,
        value=raw_value,
        mask_value=key.mask_value,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        last_rolled_at=key.last_rolled_at,
        user_id=key.user_id,
        scopes=key.scopes,
        scoped_teams=key.scoped_teams,
        scoped_organizations=key.scoped_organizations,
    )
