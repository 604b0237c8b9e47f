"""Insights (through the API, as a client creates them), dashboards and extra organization members."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import Dashboard, OrganizationMembership
from app.services import identity as identity_service
from tests.factories.identity import Team, create_key

_counter = itertools.count(1)


def trends(event: str | None = "$pageview", **source: Any) -> dict[str, Any]:
    """An InsightVizNode around a one-series TrendsQuery."""
    return {
        "kind": "InsightVizNode",
        "source": {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": event}], **source},
    }


async def create_insight(
    client: httpx.AsyncClient, team: Team, prefix: str = "/api/projects", **body: Any
) -> dict[str, Any]:
    body.setdefault("query", trends())
    response = await client.post(f"{prefix}/{team.id}/insights/", json=body, headers=team.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def create_dashboard(
    sessionmaker: async_sessionmaker[AsyncSession], team: Team, **fields: Any
) -> Dashboard:
    fields.setdefault("name", f"Dashboard {next(_counter)}")
    async with sessionmaker() as session:
        board = Dashboard(team_id=team.id, created_by_id=team.user.id, **fields)
        session.add(board)
        await session.commit()
        await session.refresh(board)
    return board


async def add_member(
    sessionmaker: async_sessionmaker[AsyncSession],
    team: Team,
    *,
    level: int = 1,
    scopes: list[str] | None = None,
) -> tuple[Team, int]:
    """Another user in `team`'s organization (same project) with their own key; and their membership id."""
    n = next(_counter)
    async with sessionmaker() as session:
        user = await identity_service.create_user(
            session, f"member{n}-{team.id}@example.com", first_name=f"M{n}"
        )
        membership = OrganizationMembership(
            organization_id=team.project.organization_id, user_id=user.id, level=level
        )
        session.add(membership)
        await session.flush()
        key, raw = await create_key(session, user, scopes=scopes)
        await session.commit()
    return Team(project=team.project, user=user, key=key, raw_key=raw), membership.id


async def new_dashboard(
    client: httpx.AsyncClient, team: Team, prefix: str = "/api/projects", **body: Any
) -> dict[str, Any]:
    """A dashboard created through the API."""
    body.setdefault("name", f"Dashboard {next(_counter)}")
    response = await client.post(f"{prefix}/{team.id}/dashboards/", json=body, headers=team.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result
