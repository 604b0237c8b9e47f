"""`/shared/:access_token`: what a sharing link shows, without an API key (read-only, one object)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sse_starlette import EventSourceResponse

from app.deps import ExecutionDep, SessionDep
from app.routers.dashboard_stream import STREAM_RESPONSES, stream_response
from app.schemas.generated.insights import SharedInsight
from app.services import shared

router = APIRouter(prefix="/shared", tags=["sharing"])
Token = Annotated[str, Path(min_length=8, max_length=400)]
Refresh = Annotated[str | None, Query(max_length=40)]


@router.get("/{access_token}", response_model=SharedInsight | dict[str, Any])
async def shared_object(
    session: SessionDep, execution: ExecutionDep, access_token: Token, refresh: Refresh = None
) -> Any:
    """`{"insight": ...}` or `{"dashboard": ...}` with results. Expensive modes are remapped
    (force_cache → lazy_async, force_blocking → blocking): a link can't force recomputation."""
    return await shared.read(session, execution, access_token, refresh)


@router.get("/{access_token}/stream_tiles", response_class=EventSourceResponse, responses=STREAM_RESPONSES)
async def shared_stream(
    request: Request,
    session: SessionDep,
    execution: ExecutionDep,
    access_token: Token,
    refresh: Refresh = None,
) -> Any:
    """A shared dashboard's tiles over Server-Sent Events, as `stream_tiles`."""
    return stream_response(request, await shared.open_stream(session, execution, access_token, refresh))
