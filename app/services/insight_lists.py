"""The insights list: query parameters (PostHog's `_filter_request`) and one page with results.

List results come from the cache by default (`force_cache`, never computes); computing modes run
the page's insights concurrently, a few at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import APIError, ValidationError
from app.execution.runner import ExecutionContext
from app.models import Project
from app.models.base import utcnow
from app.query import dates
from app.repositories import insights as repository
from app.repositories.insights import ListFilters, Viewer
from app.schemas import insights as serializers
from app.services.insight_queries import EMPTY_RESULT, RunContext, run, run_bound
from app.services.tags import list_param, tags_param

MAX_SEARCH = 200
COMPUTE_CONCURRENCY = 4
KINDS = {
    "TRENDS": "TrendsQuery",
    "FUNNELS": "FunnelsQuery",
    "RETENTION": "RetentionQuery",
    "PATHS": "PathsQuery",
    "STICKINESS": "StickinessQuery",
    "LIFECYCLE": "LifecycleQuery",
    "SQL": "HogQLQuery",
    "JSON": "DataTableNode",
}
TRUTHY = {"true", "1", "yes", "on"}
ORDERABLE = {*repository.ORDER_FIELDS, "last_viewed_at"}


def _ids(raw: str, attr: str) -> tuple[int, ...]:
    values = list_param(raw)
    result = []
    for index, value in enumerate(values):
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValidationError("A valid integer is required.", attr=f"{attr}__{index}") from None
        if not 0 < number <= 2**31 - 1:
            raise ValidationError("A valid integer is required.", attr=f"{attr}__{index}")
        result.append(number)
    return tuple(result)


def _date(raw: str | None, attr: str, project: Project, now: datetime) -> datetime | None:
    if not raw:
        return None
    tz = dates.zone(project.timezone or "UTC")
    local, _ = dates.parse_date(
        raw, now.astimezone(tz).replace(tzinfo=None), tz, project.week_start_day or 0, attr
    )
    try:
        return dates.localize(local, tz)
    except (OverflowError, ValueError):
        raise ValidationError("Date out of range.", attr=attr) from None


def parse_filters(params: Mapping[str, str], project: Project, now: datetime | None = None) -> ListFilters:
    now = now or utcnow()
    saved = params.get("saved")
    search = params.get("search")
    if search is not None and len(search) > MAX_SEARCH:
        raise ValidationError(f"Search must be at most {MAX_SEARCH} characters.", attr="search")
    kind = params.get("insight")
    if kind is not None and kind.upper() not in KINDS:
        raise ValidationError(f'"{kind[:50]}" is not a valid choice.', code="invalid_choice", attr="insight")
    order = params.get("order")
    if order and order.removeprefix("-") not in ORDERABLE:
        raise ValidationError(f'"{order[:50]}" is not a valid ordering.', code="invalid_choice", attr="order")
    return ListFilters(
        saved=None if saved is None else saved.lower() in TRUTHY,
        created_by_viewer="user" in params,
        favorited="favorited" in params and params["favorited"].lower() not in ("false", "0"),
        modified_after=_date(params.get("date_from"), "date_from", project, now),
        modified_before=_date(params.get("date_to"), "date_to", project, now),
        kind=(kind.upper(), KINDS[kind.upper()]) if kind else None,
        search=search.strip() or None if search else None,
        dashboards=_ids(params["dashboards"], "dashboards") if params.get("dashboards") else (),
        tags=tuple(tags_param(params.get("tags"))),
        created_by=_ids(params["created_by"], "created_by") if params.get("created_by") else (),
        created_after=_date(params.get("created_date_from"), "created_date_from", project, now),
        created_before=_date(params.get("created_date_to"), "created_date_to", project, now),
        viewed_after=_date(params.get("last_viewed_date_from"), "last_viewed_date_from", project, now),
        viewed_before=_date(params.get("last_viewed_date_to"), "last_viewed_date_to", project, now),
        order=order or None,
        short_id=params.get("short_id") or None,
    )


async def page(
    session: AsyncSession,
    execution: ExecutionContext,
    project: Project,
    viewer: Viewer,
    filters: ListFilters,
    *,
    limit: int,
    offset: int,
    basic: bool,
    run_context: RunContext,
) -> tuple[int, list[dict[str, Any]]]:
    statement = repository.list_statement(project.id, viewer, filters)
    count, ids = await repository.page_ids(session, project.id, viewer, statement, limit, offset)
    rows = await repository.load_rows(session, project.id, viewer, [insight_id for insight_id, _ in ids])
    ordered = []
    for insight_id, match_type in ids:
        row = rows[insight_id]
        row.search_match_type = match_type
        ordered.append(row)
    if basic:
        return count, [serializers.basic(row, viewer) for row in ordered]
    limit_compute = run_bound(run_context.mode, len(ordered), COMPUTE_CONCURRENCY)

    async def results(row: repository.InsightRow) -> dict[str, Any]:
        async with limit_compute:
            try:
                return await run(execution, project, row.insight, run_context)
            except APIError:
                # One insight that can't run doesn't fail the page; its own retrieve shows the error.
                return dict(EMPTY_RESULT)

    computed = await asyncio.gather(*(results(row) for row in ordered))
    return count, [
        serializers.full(row, viewer, project.timezone, fields)
        for row, fields in zip(ordered, computed, strict=True)
    ]
