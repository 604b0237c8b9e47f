"""Sharing links for insights and dashboards.

A configuration is created lazily (disabled) on first read. Enabling hands out its token; disabling
rotates the token, so a link that was ever revoked never works again, even after re-enabling.
`/shared/:token` resolves only enabled configurations.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Project, SharingConfiguration, User
from app.repositories import sharing as repository
from app.schemas.generated.insights import SharingPatch
from app.services import activity

TOKEN_BYTES = 16


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def sharing_out(config: SharingConfiguration) -> dict[str, Any]:
    return {
        "created_at": config.created_at,
        "enabled": config.enabled,
        "access_token": config.access_token,
        "settings": config.settings,
        "password_required": False,
        "share_passwords": [],
    }


async def get_or_create(
    session: AsyncSession, project: Project, *, insight_id: int | None = None, dashboard_id: int | None = None
) -> SharingConfiguration:
    if insight_id is not None:
        config = await repository.for_insight(session, project.id, insight_id)
    else:
        assert dashboard_id is not None
        config = await repository.for_dashboard(session, project.id, dashboard_id)
    if config is None:
        config = SharingConfiguration(
            team_id=project.id,
            insight_id=insight_id,
            dashboard_id=dashboard_id,
            enabled=False,
            access_token=new_token(),
        )
        session.add(config)
        await session.flush()
        await session.refresh(config)
    return config


async def update(
    session: AsyncSession,
    project: Project,
    user: User,
    config: SharingConfiguration,
    patch: SharingPatch,
    *,
    scope: str,
    item_id: int,
    name: str | None,
    short_id: str | None = None,
) -> SharingConfiguration:
    fields = patch.model_dump(exclude_unset=True)
    if "settings" in fields:
        config.settings = fields["settings"]
    if "enabled" in fields and bool(fields["enabled"]) != config.enabled:
        config.enabled = bool(fields["enabled"])
        if not config.enabled:
            config.access_token = new_token()
        activity.record(
            session,
            team_id=project.id,
            user=user,
            scope=scope,
            item_id=item_id,
            activity="sharing enabled" if config.enabled else "sharing disabled",
            name=name,
            short_id=short_id,
            entry_changes=[activity.change(scope, "changed", "enabled", not config.enabled, config.enabled)],
        )
    await session.flush()
    return config


async def rotate(session: AsyncSession, config: SharingConfiguration) -> SharingConfiguration:
    config.access_token = new_token()
    await session.flush()
    return config
