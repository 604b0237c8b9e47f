"""HTTP routers: thin. Parse, authorize, call a service, shape the response.

`PROJECT_ROUTERS` are mounted under both `/api/projects/{project_id}` and
`/api/environments/{environment_id}`; `GLOBAL_ROUTERS` are mounted as they are.
"""

from fastapi import APIRouter

from app.routers import (
    actions,
    capture,
    dashboard_actions,
    dashboard_sharing,
    dashboard_stream,
    dashboards,
    elements,
    event_definitions,
    health,
    insight_actions,
    insight_sharing,
    insights,
    legacy_insights,
    personal_api_keys,
    projects,
    property_definitions,
    shared,
    users,
)
from app.routers import query as query_routes

PROJECT_ROUTERS: list[APIRouter] = [
    projects.project_router,
    query_routes.router,
    actions.router,
    # `/insights/{id}` matches no action name whatever the order (see routers/common.py), so the
    # insights CRUD routes, the most requested, come first and are found with the fewest tries.
    insights.router,
    legacy_insights.router,
    insight_actions.router,
    insight_sharing.router,
    dashboard_actions.router,
    dashboard_sharing.router,
    dashboard_stream.router,
    dashboards.router,
    dashboard_sharing.templates_router,
    elements.router,
    event_definitions.router,
    property_definitions.router,
    property_definitions.values_router,
]
GLOBAL_ROUTERS: list[APIRouter] = [
    capture.router,
    health.router,
    projects.router,
    users.router,
    personal_api_keys.router,
    shared.router,
]
