"""Insight rows → PostHog's `InsightSerializer` / `InsightBasicSerializer` dicts (wire names kept).

Plain dicts rendered by orjson: the shapes are documented by the generated models in the OpenAPI
document, but hot list/retrieve responses skip a second validation pass.
"""

from __future__ import annotations

from typing import Any

from app.models import DashboardTile, User
from app.repositories.insights import InsightRow, Viewer
from app.services import access
from app.services.insight_queries import EMPTY_RESULT, stored_query


def user_basic(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        "id": user.id,
        "uuid": str(user.uuid),
        "distinct_id": user.distinct_id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_email_verified": None,
        "hedgehog_config": None,
        "role_at_organization": None,
    }


def _tiles(row: InsightRow) -> list[dict[str, Any]]:
    return [
        {"id": tile_id, "dashboard_id": board_id, "deleted": False} for tile_id, board_id, _, _ in row.tiles
    ]


def _dashboards(row: InsightRow) -> list[int]:
    return sorted({board_id for _, board_id, _, _ in row.tiles})


def access_level(row: InsightRow, viewer: Viewer) -> str:
    return access.object_level(viewer, row.insight.created_by_id, row.member_level, row.default_level)


def levels(row: InsightRow, viewer: Viewer) -> tuple[int, int]:
    return access.insight_levels(viewer, [(level, creator) for _, _, level, creator in row.tiles])


def _filters(row: InsightRow) -> dict[str, Any]:
    return {} if row.insight.query else dict(row.insight.filters or {})


def basic(row: InsightRow, viewer: Viewer) -> dict[str, Any]:
    insight = row.insight
    body = {
        "id": insight.id,
        "short_id": insight.short_id,
        "name": insight.name,
        "derived_name": insight.derived_name,
        "filters": _filters(row),
        "query": stored_query(insight),
        "dashboards": _dashboards(row),
        "dashboard_tiles": _tiles(row),
        "description": insight.description,
        "last_refresh": None,
        "refreshing": False,
        "saved": insight.saved,
        "tags": list(insight.tags or []),
        "updated_at": insight.updated_at,
        "created_by": user_basic(row.created_by),
        "created_at": insight.created_at,
        "last_modified_at": insight.last_modified_at,
        "favorited": insight.favorited,
        "user_access_level": access_level(row, viewer),
        "last_viewed_at": row.last_viewed_at,
    }
    if row.search_match_type is not None:
        body["search_match_type"] = row.search_match_type
    return body


def full(
    row: InsightRow,
    viewer: Viewer,
    timezone: str,
    results: dict[str, Any] | None = None,
    tile: DashboardTile | None = None,
) -> dict[str, Any]:
    insight = row.insight
    results = results or EMPTY_RESULT
    restriction, privilege = levels(row, viewer)
    body = {
        "id": insight.id,
        "short_id": insight.short_id,
        "name": insight.name,
        "derived_name": insight.derived_name,
        "filters": _filters(row),
        "query": stored_query(insight),
        "order": insight.order,
        "deleted": insight.deleted,
        "dashboards": _dashboards(row),
        "dashboard_tiles": _tiles(row),
        "last_refresh": results["last_refresh"],
        "cache_target_age": results["cache_target_age"],
        "next_allowed_client_refresh": results["next_allowed_client_refresh"],
        "result": results["result"],
        "hasMore": results["hasMore"],
        "columns": results["columns"],
        "created_at": insight.created_at,
        "created_by": user_basic(row.created_by),
        "description": insight.description,
        "updated_at": insight.updated_at,
        "tags": list(insight.tags or []),
        "favorited": insight.favorited,
        "saved": insight.saved,
        "last_modified_at": insight.last_modified_at,
        "last_modified_by": user_basic(row.last_modified_by),
        "is_sample": insight.is_sample,
        "effective_restriction_level": restriction,
        "effective_privilege_level": privilege,
        "user_access_level": access_level(row, viewer),
        "timezone": timezone,
        "is_cached": results["is_cached"],
        "query_status": results["query_status"],
        "hogql": results["hogql"],
        "types": results["types"],
        "resolved_date_range": results["resolved_date_range"],
        "alerts": [],
        "last_viewed_at": row.last_viewed_at,
        "filters_hash": results["filters_hash"],
    }
    if row.search_match_type is not None:
        body["search_match_type"] = row.search_match_type
    if tile is not None:
        body["color"], body["layouts"] = tile.color, tile.layouts
    return body
