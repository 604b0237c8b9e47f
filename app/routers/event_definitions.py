"""`/event_definitions/`: list, create, retrieve, update, delete, by_name, metrics, bulk tags and
typed code generation (TypeScript, Python, Go)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from app.deps import AuthDep, ProjectDep, SessionDep, require_scope
from app.pagination import PageDep, paginated
from app.responses import JSONResponse
from app.routers.gated import GatedRouter
from app.routers.repeated import repeated
from app.schemas.generated.definitions import (
    BulkUpdateTagsUUID,
    BulkUpdateTagsUUIDResult,
    EventDefinition,
    EventDefinitionMetrics,
    EventDefinitionsPage,
    EventDefinitionWrite,
    GeneratedCode,
)
from app.services import codegen, event_definitions
from app.services.event_definitions import ListParams

router = GatedRouter(prefix="/event_definitions", tags=["event_definitions"])
READ = [require_scope("event_definition:read")]
WRITE = [require_scope("event_definition:write")]
JsonList = Annotated[str | None, Query(max_length=2000, description="JSON list of names")]


@router.get("", response_model=EventDefinitionsPage, dependencies=READ)
async def list_event_definitions(
    request: Request,
    project: ProjectDep,
    session: SessionDep,
    page: PageDep,
    search: Annotated[str | None, Query(max_length=200, description="Every word must match")] = None,
    event_type: Annotated[
        str | None, Query(max_length=40, description="event (default), event_custom, event_posthog")
    ] = None,
    exclude_hidden: Annotated[str | None, Query(max_length=10)] = None,
    verified: Annotated[str | None, Query(max_length=10)] = None,
    is_verified: Annotated[str | None, Query(max_length=10)] = None,
    names: JsonList = None,
    excluded_properties: JsonList = None,
    exclude_names: JsonList = None,
    tags: JsonList = None,
    ordering: Annotated[
        str | None,
        Query(
            max_length=100,
            description="name, last_seen_at, last_seen_at::date, created_at, created_at::date (- = desc); "
            "repeatable or comma-separated",
        ),
    ] = None,
) -> Any:
    params = ListParams(
        search=search,
        event_type=event_type,
        exclude_hidden=exclude_hidden,
        verified=verified if verified is not None else is_verified,
        names=names,
        excluded_names=excluded_properties or exclude_names,
        tags=tags,
        ordering=tuple(repeated(request, "ordering", 100)),
    )
    count, results = await event_definitions.page(session, project, params, page.limit, page.offset)
    return JSONResponse(paginated(request, page, count, results))


@router.post("", status_code=201, response_model=EventDefinition, dependencies=WRITE)
async def create_event_definition(
    project: ProjectDep, session: SessionDep, auth: AuthDep, body: EventDefinitionWrite
) -> Any:
    row = await event_definitions.create(session, project, auth.user, body)
    return JSONResponse(event_definitions.serialize(row), 201)


@router.get("/by_name", response_model=EventDefinition, dependencies=READ)
async def event_definition_by_name(
    project: ProjectDep, session: SessionDep, name: Annotated[str | None, Query(max_length=400)] = None
) -> Any:
    """The definition whose name is exactly `name`."""
    return JSONResponse(event_definitions.serialize(await event_definitions.by_name(session, project, name)))


@router.post("/bulk_update_tags", response_model=BulkUpdateTagsUUIDResult, dependencies=WRITE)
async def bulk_update_tags(
    project: ProjectDep, session: SessionDep, auth: AuthDep, body: BulkUpdateTagsUUID
) -> Any:
    """`add`, `remove` or `set` tags on many definitions; unknown ids are listed in `skipped`."""
    return JSONResponse(await event_definitions.bulk_update_tags(session, project, auth.user, body))


async def _generated(session: SessionDep, project: ProjectDep, language: str) -> Any:
    return JSONResponse((await codegen.generate(session, project, language)).as_dict())


@router.get("/typescript", response_model=GeneratedCode, dependencies=READ)
async def typescript_definitions(project: ProjectDep, session: SessionDep) -> Any:
    """A posthog-js wrapper typing `capture` for the project's (non-hidden) events."""
    return await _generated(session, project, "typescript")


@router.get("/python", response_model=GeneratedCode, dependencies=READ)
async def python_definitions(project: ProjectDep, session: SessionDep) -> Any:
    """`PosthogTyped(Posthog)` with a typed `capture_<event>` method per event."""
    return await _generated(session, project, "python")


@router.get("/golang", response_model=GeneratedCode, dependencies=READ)
async def golang_definitions(project: ProjectDep, session: SessionDep) -> Any:
    """posthog-go `Capture` constructors with typed property options per event."""
    return await _generated(session, project, "golang")


@router.get("/{definition_id}", response_model=EventDefinition, dependencies=READ)
async def retrieve_event_definition(project: ProjectDep, session: SessionDep, definition_id: str) -> Any:
    return JSONResponse(
        event_definitions.serialize(await event_definitions.get(session, project, definition_id))
    )


@router.get("/{definition_id}/metrics", response_model=EventDefinitionMetrics, dependencies=READ)
async def event_definition_metrics(project: ProjectDep, session: SessionDep, definition_id: str) -> Any:
    """Events in the last 30 days, when last seen, and how many live insights use the event."""
    return JSONResponse(await event_definitions.metrics(session, project, definition_id))


async def _update(
    project: ProjectDep, session: SessionDep, auth: AuthDep, definition_id: str, body: EventDefinitionWrite
) -> Any:
    row = await event_definitions.update(session, project, auth.user, definition_id, body)
    return JSONResponse(event_definitions.serialize(row))


@router.patch("/{definition_id}", response_model=EventDefinition, dependencies=WRITE)
async def update_event_definition(
    project: ProjectDep, session: SessionDep, auth: AuthDep, definition_id: str, body: EventDefinitionWrite
) -> Any:
    return await _update(project, session, auth, definition_id, body)


@router.put("/{definition_id}", response_model=EventDefinition, dependencies=WRITE)
async def replace_event_definition(
    project: ProjectDep, session: SessionDep, auth: AuthDep, definition_id: str, body: EventDefinitionWrite
) -> Any:
    return await _update(project, session, auth, definition_id, body)


@router.delete("/{definition_id}", status_code=204, dependencies=WRITE)
async def delete_event_definition(
    project: ProjectDep, session: SessionDep, auth: AuthDep, definition_id: str
) -> Response:
    await event_definitions.delete(session, project, auth.user, definition_id)
    return Response(status_code=204)
