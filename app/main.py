"""`create_app()`: the FastAPI application. The lifespan owns the engine, sessions, Redis and the arq pool."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from redis.asyncio import Redis

from app.db import create_engine, create_sessionmaker
from app.deps import declare_environment_id, declare_project_id
from app.errors import ERROR_RESPONSES, install_error_handlers
from app.execution.context import build_context
from app.ingestion.capture import TokenCache
from app.ingestion.group_commit import GroupCommitter
from app.ingestion.pipeline import Ingestor
from app.middleware import BodySizeLimitMiddleware, TrailingSlashMiddleware
from app.observability import ObservabilityMiddleware, configure_logging, metrics
from app.principals import PrincipalCache
from app.responses import JSONResponse
from app.routers import GLOBAL_ROUTERS, PROJECT_ROUTERS
from app.routers.gated import GatedRouter
from app.settings import Settings, get_settings
from app.workers.queue import create_queue

logger = logging.getLogger(__name__)


def openapi_without_422(app: FastAPI) -> dict[str, Any]:
    """Validation errors are 400 in PostHog's error shape here, so the schema must not promise 422."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not (settings.database_url and settings.redis_url):
            raise RuntimeError(
                "DATABASE_URL and REDIS_URL must be set (`analytics serve` sets them when embedded)"
            )
        engine = create_engine(settings)
        redis = Redis.from_url(settings.redis_url, socket_connect_timeout=2, health_check_interval=30)
        queue = create_queue(settings.redis_url)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.read_sessionmaker = create_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        app.state.redis = redis
        app.state.queue = queue
        app.state.capture_committer = GroupCommitter(Ingestor(engine))
        app.state.tokens = TokenCache(app.state.sessionmaker)
        # One context per process: its result cache holds the in-process single-flight table.
        app.state.execution = build_context(engine, redis, queue, settings)
        # Everything built so far (routes, models, validators, SQLAlchemy's caches) lives as long as
        # the process, yet each full garbage collection walked it all: 130-290 ms pauses every few
        # seconds under load, stalling every request in flight (the p99 of cached reads). Frozen,
        # collections only walk what requests allocate. Unfrozen at shutdown, so apps started and
        # stopped within one process (tests) leave nothing uncollectable behind.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            await queue.aclose()
            await redis.aclose()
            await engine.dispose()

    app = FastAPI(
        title="Analytics",
        summary="PostHog-compatible product analytics API",
        version="0.1.0",
        lifespan=lifespan,
        redirect_slashes=False,
        default_response_class=JSONResponse,
    )
    app.state.principals = PrincipalCache(settings.auth_cache_seconds)
    install_error_handlers(app)
    app.add_route("/metrics", metrics, include_in_schema=False)
    # The project API first, under one gated router per mount (see app/routers/gated.py): its paths
    # are most of the traffic, and any other path passes both with two substring tests. No project
    # route's path can match a global route's, so the order changes no match.
    for prefix, declare in (
        ("/api/projects/{project_id}", declare_project_id),
        ("/api/environments/{environment_id}", declare_environment_id),
    ):
        mount = GatedRouter(gate=prefix)
        for router in PROJECT_ROUTERS:
            mount.include_router(router, prefix=prefix)
        app.include_router(mount, dependencies=[Depends(declare)], responses=ERROR_RESPONSES)
    for router in GLOBAL_ROUTERS:
        app.include_router(router, responses=ERROR_RESPONSES)
    app.openapi = lambda: openapi_without_422(app)  # type: ignore[method-assign]
    # Added last = outermost: the size limit applies before anything reads the body.
    app.add_middleware(TrailingSlashMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(ObservabilityMiddleware)
    return app
