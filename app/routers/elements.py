"""`/elements/`: stored elements (CRUD), click statistics by element chain, and attribute values."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from app.deps import MAX_ID, ProjectDep, SessionDep, require_scope
from app.middleware import request_url
from app.pagination import PageDep, paginated
from app.repositories import elements as stored_elements
from app.responses import JSONResponse
from app.routers.gated import GatedRouter
from app.routers.repeated import repeated
from app.schemas.generated.definitions import (
    Element,
    ElementsPage,
    ElementStatsPage,
    ElementWrite,
    NamedValue,
)
from app.services import element_stats, elements
from app.services.element_stats import StatsParams

router = GatedRouter(prefix="/elements", tags=["elements"])
ElementId = Annotated[int, "element id"]
Text = Annotated[str | None, Query(max_length=100)]
STATS_HEADERS = {"Cache-Control": "public, max-age=30", "Vary": "Accept, Accept-Encoding, Query-String"}


@router.get("", response_model=ElementsPage, dependencies=[require_scope("element:read")])
async def list_elements(request: Request, project: ProjectDep, session: SessionDep, page: PageDep) -> Any:
    count, rows = await stored_elements.page(session, project.id, page.limit, page.offset)
    return JSONResponse(paginated(request, page, count, [elements.serialize(row) for row in rows]))


@router.post("", status_code=201, response_model=Element, dependencies=[require_scope("element:write")])
async def create_element(project: ProjectDep, session: SessionDep, body: ElementWrite) -> Any:
    return JSONResponse(elements.serialize(await elements.create(session, project, body)), 201)


@router.get("/stats", response_model=ElementStatsPage, dependencies=[require_scope("element:read")])
async def element_stats_page(
    request: Request,
    project: ProjectDep,
    session: SessionDep,
    include: Annotated[
        str | None,
        Query(
            max_length=200,
            description="$autocapture, $rageclick, $dead_click (default: all three); repeatable, "
            "comma-separated or a JSON list.",
        ),
    ] = None,
    date_from: Text = None,
    date_to: Text = None,
    limit: Annotated[str | None, Query(max_length=20)] = None,
    offset: Annotated[str | None, Query(max_length=20)] = None,
    sampling_factor: Annotated[str | None, Query(max_length=20)] = None,
    properties: Annotated[str | None, Query(max_length=3000, description="JSON list of filters")] = None,
    filter_test_accounts: Annotated[str | None, Query(max_length=10)] = None,
    data_attributes: Annotated[str | None, Query(max_length=500)] = None,
    max_element_chain_depth: Annotated[str | None, Query(max_length=20)] = None,
) -> Any:
    """Counts of click events per (elements_chain, event type), most clicked first."""
    params = StatsParams(
        include=repeated(request, "include", 200),
        date_from=date_from,
        date_to=date_to,
        limit=limit,
        offset=offset,
        sampling_factor=sampling_factor,
        properties=properties,
        filter_test_accounts=filter_test_accounts,
        data_attributes=data_attributes,
        max_element_chain_depth=max_element_chain_depth,
    )
    stats_request, shaping = element_stats.parse(project, params)
    results, has_next = await element_stats.rows(session, stats_request, shaping)
    url = request_url(request)
    limit_value, offset_value = stats_request.limit, stats_request.offset
    next_url = str(url.include_query_params(limit=limit_value, offset=offset_value + limit_value))
    previous_offset = offset_value - limit_value
    previous_url = str(url.include_query_params(limit=limit_value, offset=previous_offset))
    body = {
        "results": results,
        "next": next_url if has_next else None,
        "previous": previous_url if previous_offset >= 0 else None,
    }
    return JSONResponse(body, headers=STATS_HEADERS)


@router.get("/values", response_model=list[NamedValue], dependencies=[require_scope("element:read")])
async def element_values(
    project: ProjectDep,
    session: SessionDep,
    key: Annotated[str | None, Query(max_length=100, description="tag_name, text, href or attr_id")] = None,
    value: Annotated[str | None, Query(max_length=1000, description="Case-sensitive substring")] = None,
) -> Any:
    return JSONResponse(await elements.values(session, project, key, value))


@router.get("/{element_id:int}", response_model=Element, dependencies=[require_scope("element:read")])
async def retrieve_element(project: ProjectDep, session: SessionDep, element_id: ElementId) -> Any:
    return JSONResponse(elements.serialize(await elements.get(session, project, _checked(element_id))))


@router.patch("/{element_id:int}", response_model=Element, dependencies=[require_scope("element:write")])
async def update_element(
    project: ProjectDep, session: SessionDep, element_id: ElementId, body: ElementWrite
) -> Any:
    element = await elements.update(session, project, _checked(element_id), body)
    return JSONResponse(elements.serialize(element))


@router.put("/{element_id:int}", response_model=Element, dependencies=[require_scope("element:write")])
async def replace_element(
    project: ProjectDep, session: SessionDep, element_id: ElementId, body: ElementWrite
) -> Any:
    element = await elements.update(session, project, _checked(element_id), body)
    return JSONResponse(elements.serialize(element))


@router.delete("/{element_id:int}", status_code=204, dependencies=[require_scope("element:write")])
async def delete_element(project: ProjectDep, session: SessionDep, element_id: ElementId) -> Response:
    await elements.delete(session, project, _checked(element_id))
    return Response(status_code=204)


def _checked(element_id: int) -> int:
    """Ids beyond int4 can't exist: 404 rather than a database overflow."""
    return element_id if 0 < element_id <= MAX_ID else -1
