"""`/property_definitions/` (list, retrieve, update) and `/events/values/` (a property's values)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request

from app.deps import AuthDep, ProjectDep, SessionDep, require_scope
from app.pagination import PageDep, paginated
from app.responses import JSONResponse
from app.routers.gated import GatedRouter
from app.routers.repeated import repeated
from app.schemas.generated.definitions import (
    NamedValue,
    PropertyDefinition,
    PropertyDefinitionsPage,
    PropertyDefinitionUpdate,
)
from app.services import property_definitions
from app.services.property_definitions import ListParams

router = GatedRouter(prefix="/property_definitions", tags=["property_definitions"])
values_router = GatedRouter(prefix="/events", tags=["property_definitions"])
READ = [require_scope("property_definition:read")]
WRITE = [require_scope("property_definition:write")]


@router.get("", response_model=PropertyDefinitionsPage, dependencies=READ)
async def list_property_definitions(
    request: Request,
    project: ProjectDep,
    session: SessionDep,
    page: PageDep,
    type: Annotated[str | None, Query(max_length=20, description="event (default) or person")] = None,
    search: Annotated[str | None, Query(max_length=200, description="Every word must match")] = None,
    event_names: Annotated[
        str | None, Query(max_length=2000, description="JSON list: properties seen with these first")
    ] = None,
    filter_by_event_names: Annotated[
        str | None, Query(max_length=10, description="true: only properties seen with event_names")
    ] = None,
    is_numerical: Annotated[str | None, Query(max_length=10)] = None,
    excluded_properties: Annotated[str | None, Query(max_length=2000)] = None,
) -> Any:
    params = ListParams(
        type=type,
        search=search,
        event_names=event_names,
        filter_by_event_names=filter_by_event_names,
        is_numerical=is_numerical,
        excluded_properties=excluded_properties,
    )
    count, results = await property_definitions.page(session, project, params, page.limit, page.offset)
    return JSONResponse(paginated(request, page, count, results))


@router.get("/{definition_id}", response_model=PropertyDefinition, dependencies=READ)
async def retrieve_property_definition(project: ProjectDep, session: SessionDep, definition_id: str) -> Any:
    row = await property_definitions.get(session, project, definition_id)
    return JSONResponse(property_definitions.serialize(row))


async def _update(
    project: ProjectDep,
    session: SessionDep,
    auth: AuthDep,
    definition_id: str,
    body: PropertyDefinitionUpdate,
) -> Any:
    row = await property_definitions.update(session, project, auth.user, definition_id, body)
    return JSONResponse(property_definitions.serialize(row))


@router.patch("/{definition_id}", response_model=PropertyDefinition, dependencies=WRITE)
async def update_property_definition(
    project: ProjectDep,
    session: SessionDep,
    auth: AuthDep,
    definition_id: str,
    body: PropertyDefinitionUpdate,
) -> Any:
    return await _update(project, session, auth, definition_id, body)


@router.put("/{definition_id}", response_model=PropertyDefinition, dependencies=WRITE)
async def replace_property_definition(
    project: ProjectDep,
    session: SessionDep,
    auth: AuthDep,
    definition_id: str,
    body: PropertyDefinitionUpdate,
) -> Any:
    return await _update(project, session, auth, definition_id, body)


@values_router.get("/values", response_model=list[NamedValue], dependencies=READ)
async def event_property_values(
    request: Request,
    project: ProjectDep,
    session: SessionDep,
    key: Annotated[str | None, Query(max_length=400, description="The event property")] = None,
    value: Annotated[str | None, Query(max_length=1000, description="Case-insensitive substring")] = None,
    event_name: Annotated[
        str | None, Query(max_length=400, description="Only on this event; repeat for several")
    ] = None,
) -> Any:
    """The property's most frequent values over the last 7 days (what filter pickers offer)."""
    events = repeated(request, "event_name", 400)
    return JSONResponse(await property_definitions.event_values(session, project, key, value, events))
