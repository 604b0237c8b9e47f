"""Pure ASGI middleware: trailing-slash folding and the request size limit."""

from __future__ import annotations

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PayloadTooLarge, error_response

ORIGINAL_PATH = "analytics.original_path"


def request_url(request: Request) -> URL:
    """The URL as the client sent it (with its trailing slash), for links such as pagination's."""
    original = request.scope.get(ORIGINAL_PATH)
    return request.url.replace(path=original) if original else request.url


class TrailingSlashMiddleware:
    """Routes are declared without a trailing slash; PostHog's URLs have one. Accept both, no redirect."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                # Mutated in place so outer middleware sees what routing adds (endpoint, route).
                scope[ORIGINAL_PATH] = path
                scope["path"] = path.rstrip("/") or "/"
                raw_path: bytes | None = scope.get("raw_path")
                if raw_path:
                    scope["raw_path"] = raw_path.rstrip(b"/") or b"/"
        await self.app(scope, receive, send)


class BodySizeLimitMiddleware:
    """Rejects bodies over `max_bytes` with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await error_response(PayloadTooLarge())(scope, receive, send)
                return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLarge()
            return message

        await self.app(scope, limited_receive, send)
