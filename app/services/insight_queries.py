"""An insight's query and its results, through `app.query.api` and the execution layer.

The insight's stored `query` (or its legacy `filters`, converted) is never changed by a read:
dashboard filters and `filters_override` are applied to the prepared query only, so they change the
cache key (`filters_hash`) and the results but not the insight.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.errors import APIError, NotFound, ValidationError
from app.execution.modes import ExecutionMode
from app.execution.runner import ExecutionContext, PreparedQuery, execute
from app.models import DashboardTile, Insight, Project
from app.models.base import utcnow
from app.query import legacy
from app.query.api import QueryPlan, TeamContext, parse_query, plan_query
from app.repositories import dashboards as dashboards_repo

# Modes that never compute: a failure to prepare the query shows as "no result", not as an error.
NON_COMPUTING = {ExecutionMode.FORCE_CACHE}
EMPTY_RESULT: dict[str, Any] = {
    "result": None,
    "hasMore": None,
    "columns": None,
    "types": None,
    "hogql": None,
    "last_refresh": None,
    "cache_target_age": None,
    "next_allowed_client_refresh": None,
    "is_cached": False,
    "query_status": None,
    "resolved_date_range": None,
    "filters_hash": None,
}


def stored_query(insight: Insight) -> dict[str, Any] | None:
    """The query the API shows: the stored one, or the legacy filters converted on the fly."""
    if insight.query:
        return insight.query
    if insight.filters:
        try:
            return legacy_query(insight.filters)
        except APIError:
            return None  # stored before validation existed; shown as "no query", never a 500
    return None


def legacy_query(filters: Mapping[str, Any]) -> dict[str, Any]:
    """Legacy `filters` as the query node PostHog shows for them (400 naming the field on garbage)."""
    return {"kind": "InsightVizNode", "source": legacy.filters_to_query(filters), "full": True}


def source_of(query: Mapping[str, Any]) -> dict[str, Any]:
    source = query.get("source") if query.get("kind") == "InsightVizNode" else query
    if not isinstance(source, Mapping):
        raise ValidationError("This field is required.", code="required", attr="query__source")
    return dict(source)


def canonical_source(query: Mapping[str, Any]) -> dict[str, Any]:
    """The validated source node as a plain dict (400 naming the field when invalid)."""
    node = parse_query(query)
    return node.model_dump(mode="json", by_alias=True, exclude_none=True)


def merge_filters(
    dashboard_filters: Mapping[str, Any] | None,
    filters_override: Mapping[str, Any] | None,
    tile_overrides: Mapping[str, Any] | None,
) -> dict[str, Any] | None:
    """What applies to a tile: its own overrides if any, else the dashboard's filters with the request's
    `filters_override` on top (PostHog's precedence)."""
    if tile_overrides:
        return dict(tile_overrides)
    merged = {**(dashboard_filters or {}), **(filters_override or {})}
    return {key: value for key, value in merged.items() if value not in (None, "", [])} or None


@dataclass(frozen=True, slots=True)
class RunContext:
    mode: ExecutionMode
    filters: dict[str, Any] | None = None
    dashboard_id: int | None = None
    client_query_id: str | None = None
    now: datetime | None = None  # injected by tests; the clock otherwise


def prepare(
    project: Project, query: Mapping[str, Any], filters: Mapping[str, Any] | None, now: datetime | None = None
) -> PreparedQuery:
    team = TeamContext.from_project(project)
    key = orjson.dumps([query, team.to_json(), filters], option=orjson.OPT_SORT_KEYS)
    return _plan(key).at(now or utcnow())


@functools.lru_cache(maxsize=1024)
def _plan(key: bytes) -> QueryPlan:
    """The plan of (query, team, filters), kept: every read of an insight (a list page reads 100)
    would otherwise parse and normalize its stored query again, about a tenth of a cached read's
    time. The key holds all the plan depends on, so an entry can never be stale."""
    query, team, filters = orjson.loads(key)
    return plan_query(parse_query(query), TeamContext(**team), filters)


def run_bound(mode: ExecutionMode, runs: int, computations: int) -> asyncio.Semaphore:
    """How many of `runs` insight runs go at once: `computations` if they may compute, else all of
    them, as their cache reads then go to Redis together (one MGET, app/execution/cache.py)."""
    return asyncio.Semaphore(computations if mode not in NON_COMPUTING else max(runs, 1))


def result_fields(body: Mapping[str, Any], cache_key: str) -> dict[str, Any]:
    """A query response mapped to the insight serializer's result fields."""
    return {
        "result": body.get("results"),
        "hasMore": body.get("hasMore"),
        "columns": body.get("columns"),
        "types": body.get("types"),
        "hogql": body.get("hogql"),
        "last_refresh": body.get("last_refresh"),
        "cache_target_age": body.get("cache_target_age"),
        "next_allowed_client_refresh": body.get("next_allowed_client_refresh"),
        "is_cached": bool(body.get("is_cached")),
        "query_status": body.get("query_status"),
        "resolved_date_range": body.get("resolved_date_range"),
        "filters_hash": cache_key,
    }


async def run(
    execution: ExecutionContext, project: Project, insight: Insight, run_context: RunContext
) -> dict[str, Any]:
    """The insight's result fields in the requested mode. Non-computing modes never raise for a query
    that can't run (the result is just empty); computing modes raise its 400."""
    query = stored_query(insight)
    if query is None:
        return dict(EMPTY_RESULT)
    try:
        prepared = prepare(project, query, run_context.filters, run_context.now)
    except APIError:
        if run_context.mode in NON_COMPUTING:
            return dict(EMPTY_RESULT)
        raise
    body = await execute(
        execution,
        prepared,
        run_context.mode,
        query_id=run_context.client_query_id,
        insight_id=insight.id,
        dashboard_id=run_context.dashboard_id,
        now=run_context.now,
    )
    return result_fields(body, prepared.cache_key)


async def dashboard_context(
    sessions: async_sessionmaker[AsyncSession],
    project: Project,
    insight_id: int,
    dashboard_id: int | None,
    filters_override: Mapping[str, Any] | None,
) -> tuple[dict[str, Any] | None, DashboardTile | None]:
    """The filters that apply to an insight read (with `from_dashboard`: that dashboard's and its
    tile's, read in a session opened only then)."""
    if dashboard_id is None:
        return merge_filters(None, filters_override, None), None
    async with sessions() as session:
        board = await dashboards_repo.get(session, project.id, dashboard_id)
        if board is None:
            raise NotFound()
        tile = await dashboards_repo.insight_tile(session, project.id, dashboard_id, insight_id)
    overrides = tile.filters_overrides if tile is not None else None
    return merge_filters(board.filters, filters_override, overrides), tile
