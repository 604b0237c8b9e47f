"""PostHog's legacy filter-based insight endpoints: `/insights/funnel/` and `/insights/funnel/correlation/`.

Filters come as query parameters (GET; lists and objects JSON-encoded) or a JSON object body (POST,
merged over the query parameters, as PostHog's request filters are). Mounted before the insights
router so that `funnel` is never read as an insight id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Request

from app.deps import ExecutionDep, ProjectDep, require_scope
from app.errors import ValidationError
from app.ratelimit import analytics_rate_limit
from app.responses import JSONResponse
from app.routers.gated import GatedRouter
from app.schemas.generated.legacy_insights import LegacyInsightResponse
from app.services import legacy_insights

router = GatedRouter(prefix="/insights", tags=["insights"])
DEPENDENCIES = [require_scope("insight:read"), analytics_rate_limit()]
RESPONSES: dict[int | str, dict[str, Any]] = {200: {"model": LegacyInsightResponse}}
Filters = Annotated[
    dict[str, Any] | None, Body(description="Legacy insight filters (`events`, `actions`, ...).")
]


def _params(request: Request, body: dict[str, Any] | None = None) -> dict[str, Any]:
    if body is not None and not isinstance(body, dict):
        raise ValidationError("Filters must be a JSON object.")
    return {**dict(request.query_params), **(body or {})}


@router.get("/funnel", dependencies=DEPENDENCIES, responses=RESPONSES)
async def funnel(request: Request, project: ProjectDep, execution: ExecutionDep) -> Any:
    return JSONResponse(await legacy_insights.funnel(execution, project, _params(request)))


@router.post("/funnel", dependencies=DEPENDENCIES, responses=RESPONSES)
async def create_funnel(
    request: Request, project: ProjectDep, execution: ExecutionDep, filters: Filters = None
) -> Any:
    return JSONResponse(await legacy_insights.funnel(execution, project, _params(request, filters)))


@router.get("/funnel/correlation", dependencies=DEPENDENCIES, responses=RESPONSES)
async def funnel_correlation(request: Request, project: ProjectDep, execution: ExecutionDep) -> Any:
    return JSONResponse(await legacy_insights.funnel_correlation(execution, project, _params(request)))


@router.post("/funnel/correlation", dependencies=DEPENDENCIES, responses=RESPONSES)
async def create_funnel_correlation(
    request: Request, project: ProjectDep, execution: ExecutionDep, filters: Filters = None
) -> Any:
    return JSONResponse(
        await legacy_insights.funnel_correlation(execution, project, _params(request, filters))
    )
