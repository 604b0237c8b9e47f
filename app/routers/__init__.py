"""HTTP routers: thin. Parse, authorize, call a service, shape the response.

`PROJECT_ROUTERS` are mounted under both `/api/projects/{project_id}` and
`/api/environments/{environment_id}`; `GLOBAL_ROUTERS` are mounted as they are.
"""

from fastapi import APIRouter

from app.routers import actions, capture, health, legacy_insights, personal_api_keys, projects, users
from app.routers import query as query_routes

PROJECT_ROUTERS: list[APIRouter] = [
    projects.project_router,
    query_routes.router,
    actions.router,
    legacy_insights.router,  # before any `/insights/{id}` router, so `funnel` is never an id
]
GLOBAL_ROUTERS: list[APIRouter] = [
    capture.router,
    health.router,
    projects.router,
    users.router,
    personal_api_keys.router,
]
