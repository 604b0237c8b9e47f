"""What a viewer may see of an insight or a dashboard, as SQL over bound parameters.

Statements are built once at import; each query binds the project (`team_id`), the viewer
(`viewer_id`, `membership_id`, `is_admin`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, Integer, bindparam, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from app.models import AccessControl

TEAM = bindparam("team_id", type_=Integer)
VIEWER = bindparam("viewer_id", type_=Integer)
MEMBERSHIP = bindparam("membership_id", type_=Integer)
IS_ADMIN = bindparam("is_admin", type_=Boolean)


def rule_level(resource: str, resource_id: InstrumentedAttribute[int], member: bool) -> ColumnElement[Any]:
    """The viewer's own rule on the object (`member`), or the object's default rule."""
    who = (
        AccessControl.organization_member_id == MEMBERSHIP
        if member
        else AccessControl.organization_member_id.is_(None)
    )
    return (
        select(AccessControl.access_level)
        .where(
            AccessControl.team_id == TEAM,
            AccessControl.resource == resource,
            AccessControl.resource_id == func.cast(resource_id, AccessControl.resource_id.type),
            who,
        )
        .scalar_subquery()
    )


def visible(
    resource: str, resource_id: InstrumentedAttribute[int], created_by_id: InstrumentedAttribute[int | None]
) -> ColumnElement[bool]:
    """Hides objects whose applicable rule for the viewer is `none` (creators and admins see all)."""
    return or_(
        IS_ADMIN,
        created_by_id == VIEWER,
        func.coalesce(
            rule_level(resource, resource_id, member=True),
            rule_level(resource, resource_id, member=False),
            "editor",
        )
        != "none",
    )
