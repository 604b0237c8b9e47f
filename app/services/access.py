"""Who may see and edit an insight or dashboard, and the `access_controls` endpoints' rules.

Levels, lowest first: none < viewer < editor < manager. An object's creator and organization admins
are managers; anyone else gets their own rule on the object, else the object's default rule, else
`editor` (everyone in the project can edit, PostHog's default). `none` hides the object (404), `viewer`
makes it read-only (403 on writes). Dashboards also keep PostHog's legacy restriction levels: at 37 only
the creator and admins may edit, which makes the dashboard's insights read-only for everyone else too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound, PermissionDenied, ValidationError
from app.models import AccessControl, Project, User
from app.models.base import utcnow
from app.models.dashboards import CAN_EDIT, CAN_VIEW, EVERYONE_CAN_EDIT
from app.repositories import sharing as repository
from app.repositories.insights import Viewer

LEVELS = ("none", "viewer", "editor", "manager")
DEFAULT_LEVEL = "editor"
ADMIN_MEMBERSHIP_LEVEL = 8  # PostHog's OrganizationMembership.Level.ADMIN


def viewer_for(user_id: int, membership_id: int, membership_level: int) -> Viewer:
    return Viewer(user_id, membership_id, is_admin=membership_level >= ADMIN_MEMBERSHIP_LEVEL)


def object_level(
    viewer: Viewer, created_by_id: int | None, member_level: str | None, default_level: str | None
) -> str:
    if viewer.is_admin or (created_by_id is not None and created_by_id == viewer.user_id):
        return "manager"
    return member_level or default_level or DEFAULT_LEVEL


def at_least(level: str, wanted: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index(wanted)


def can_edit_dashboard(viewer: Viewer, restriction_level: int, created_by_id: int | None) -> bool:
    return restriction_level <= EVERYONE_CAN_EDIT or viewer.is_admin or created_by_id == viewer.user_id


def insight_levels(viewer: Viewer, dashboards: Sequence[tuple[int, int | None]]) -> tuple[int, int]:
    """(effective_restriction_level, effective_privilege_level) from the (restriction, creator) of the
    dashboards an insight is on: the strictest dashboard restricts it; editing needs every dashboard."""
    restriction = max([EVERYONE_CAN_EDIT, *(level for level, _ in dashboards)])
    editable = all(can_edit_dashboard(viewer, level, creator) for level, creator in dashboards)
    return restriction, CAN_EDIT if editable else CAN_VIEW


def require_edit(level: str, privilege: int = CAN_EDIT) -> None:
    if not at_least(level, "editor") or privilege < CAN_EDIT:
        raise PermissionDenied("You don't have edit permissions for this object.")


def rule_out(rule: AccessControl) -> dict[str, Any]:
    return {
        "access_level": rule.access_level,
        "resource": rule.resource,
        "resource_id": rule.resource_id,
        "organization_member": rule.organization_member_id,
        "role": None,
        "created_by": rule.created_by_id,
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
    }


async def describe(
    session: AsyncSession, project: Project, resource: str, resource_id: str, user_level: str
) -> dict[str, Any]:
    rules = await repository.rules(session, project.id, resource, resource_id)
    default = next((r.access_level for r in rules if r.organization_member_id is None), DEFAULT_LEVEL)
    return {
        "access_controls": [rule_out(rule) for rule in rules],
        "available_access_levels": list(LEVELS),
        "default_access_level": default,
        "user_access_level": user_level,
        "user_can_edit_access_levels": user_level == "manager",
    }


async def put_rule(
    session: AsyncSession,
    project: Project,
    user: User,
    *,
    resource: str,
    resource_id: str,
    user_level: str,
    access_level: str | None,
    organization_member: int | None,
    role: str | None,
) -> AccessControl | None:
    """Create, change or (access_level null) delete one rule. Only managers may."""
    if user_level != "manager":
        raise PermissionDenied("You do not have the required access to this resource.")
    if role is not None:
        raise ValidationError("Roles are not supported; set a rule per organization member.", attr="role")
    if organization_member is not None and (
        await repository.membership_by_id(session, project.organization_id, organization_member) is None
    ):
        raise ValidationError("Organization member not found.", attr="organization_member")
    rules = await repository.rules(session, project.id, resource, resource_id)
    existing = next((r for r in rules if r.organization_member_id == organization_member), None)
    if access_level is None:
        if existing is None:
            raise NotFound()
        await session.delete(existing)
        await session.flush()
        return None
    if existing is None:
        existing = AccessControl(
            team_id=project.id,
            resource=resource,
            resource_id=resource_id,
            organization_member_id=organization_member,
            created_by_id=user.id,
            access_level=access_level,
        )
        session.add(existing)
    existing.access_level, existing.updated_at = access_level, utcnow()
    await session.flush()
    await session.refresh(existing)
    return existing
