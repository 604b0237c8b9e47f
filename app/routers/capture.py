"""PostHog's capture endpoints (`/batch`, `/capture`, `/e`, `/i/v0/e`, `/track`), for the SDKs.

Authenticated by the project token in the body or query, not by a personal API key. Any origin may
post (browsers send events from the product's own site).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.errors import ERROR_RESPONSES
from app.ingestion.capture import CaptureRequest, capture
from app.models.base import utcnow
from app.responses import JSONResponse
from app.schemas.generated.capture import CaptureResponse

router = APIRouter(tags=["capture"])
CAPTURE_PATHS = ("/batch", "/capture", "/e", "/i/v0/e", "/track")
ANY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "description": "An event, a list of events or `{api_key, batch: [...], sent_at}`; JSON, gzip, "
        "base64 or form `data=`, as the PostHog SDKs send it.",
        "content": {
            "application/json": {"schema": {}},
            "text/plain": {"schema": {"type": "string"}},
            "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
        },
    }
}
CAPTURE_ERRORS: dict[int | str, dict[str, Any]] = {
    code: ERROR_RESPONSES[code] for code in (400, 401, 413, 503)
}


def _cors(request: Request) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": request.headers.get("origin") or "*",
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


def _client_ip(request: Request) -> str | None:
    forwarded = request.headers.get("x-forwarded-for", "")
    if forwarded:
        return forwarded.split(",", 1)[0].strip() or None
    return request.client.host if request.client else None


async def capture_events(request: Request) -> Response:
    received_at = utcnow()
    await capture(
        CaptureRequest(
            body=await request.body(),
            query=dict(request.query_params),
            content_type=request.headers.get("content-type", ""),
            content_encoding=request.headers.get("content-encoding", ""),
            ip=_client_ip(request),
            received_at=received_at,
        ),
        tokens=request.app.state.tokens,
        committer=request.app.state.capture_committer,
        max_bytes=request.app.state.settings.max_request_bytes,
    )
    return JSONResponse(CaptureResponse(status=1).model_dump(), headers=_cors(request))


async def preflight(request: Request) -> Response:
    headers = _cors(request) | {
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": request.headers.get("access-control-request-headers", "*"),
        "Access-Control-Max-Age": "86400",
    }
    return Response(status_code=200, headers=headers)


for _path in CAPTURE_PATHS:
    for _method in ("POST", "GET"):
        router.add_api_route(
            _path,
            capture_events,
            methods=[_method],
            response_model=CaptureResponse,
            responses=CAPTURE_ERRORS,
            openapi_extra=ANY_BODY if _method == "POST" else None,
            summary=f"Capture events ({_method} {_path})",
            operation_id=f"capture_{_path.strip('/').replace('/', '_')}_{_method.lower()}",
        )
    router.add_api_route(_path, preflight, methods=["OPTIONS"], include_in_schema=False)
