"""`/dashboards/:id/stream_tiles/`: the dashboard, then each tile as it is ready, over Server-Sent Events.

Everything that can fail with a JSON 403/404 (scope, project, dashboard) happens before the stream
starts. The route's database session is committed and released before the first byte is streamed:
tiles only need the execution layer, which takes its own connection per query.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sse_starlette import EventSourceResponse

from app.deps import AuthDep, ExecutionDep, ProjectDep, SessionDep, require_scope
from app.routers.common import ViewerDep, object_id
from app.routers.dashboards import OptionsDep
from app.routers.gated import GatedRouter
from app.services import dashboard_reads
from app.sse import StreamCapacity, event_stream

router = GatedRouter(prefix="/dashboards", tags=["dashboards"])
STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`data: <json>` messages: metadata (with the first two tiles), tiles, complete.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    503: {"description": "Too many open streams on this server; see Retry-After."},
}


def capacity(request: Request) -> StreamCapacity:
    """One cap per process, sized from the settings on first use."""
    state = request.app.state
    if getattr(state, "stream_capacity", None) is None:
        state.stream_capacity = StreamCapacity(state.settings.sse_max_streams)
    stream_capacity: StreamCapacity = state.stream_capacity
    return stream_capacity


def stream_response(request: Request, opened: dashboard_reads.OpenDashboard) -> Any:
    """Reserves a stream slot (503 past the cap) and hands the slot back when the stream ends."""
    slots = capacity(request)
    slots.reserve()
    try:
        messages = dashboard_reads.stream(opened, request.app.state.settings.sse_tile_concurrency)
        return event_stream(messages, on_close=slots.release)
    except BaseException:
        slots.release()
        raise


@router.get(
    "/{dashboard_id:object_id}/stream_tiles",
    response_class=EventSourceResponse,
    responses=STREAM_RESPONSES,
    dependencies=[require_scope("dashboard:read")],
)
async def stream_tiles(
    request: Request,
    project: ProjectDep,
    session: SessionDep,
    execution: ExecutionDep,
    auth: AuthDep,
    viewer: ViewerDep,
    dashboard_id: str,
    options: OptionsDep,
) -> Any:
    """PostHog's stream: `{"type":"metadata",...}`, `{"type":"tile","order":n,...}` or
    `{"type":"error","tile_id":...}` per tile as each is ready, then `{"type":"complete"}`."""
    opened = await dashboard_reads.open_dashboard(
        session, execution, project, viewer, auth.user, object_id(dashboard_id), options
    )
    return stream_response(request, opened)
