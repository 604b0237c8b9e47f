"""Dashboard rows → PostHog's dashboard serializers (basic and full) and tile dicts (wire names kept)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.models import DashboardText, DashboardTile
from app.models.dashboards import CAN_EDIT, CAN_VIEW, EVERYONE_CAN_EDIT
from app.repositories.dashboard_rows import DashboardRow
from app.repositories.insights import Viewer
from app.schemas.insights import user_basic
from app.services import access


def access_level(row: DashboardRow, viewer: Viewer) -> str:
    return access.object_level(viewer, row.dashboard.created_by_id, row.member_level, row.default_level)


def privilege(row: DashboardRow, viewer: Viewer) -> int:
    board = row.dashboard
    editable = access.at_least(access_level(row, viewer), "editor") and access.can_edit_dashboard(
        viewer, board.restriction_level, board.created_by_id
    )
    return CAN_EDIT if editable else CAN_VIEW


def basic(
    row: DashboardRow,
    viewer: Viewer,
    *,
    filters: dict[str, Any] | None = None,
    variables: dict[str, Any] | None = None,
    last_refresh: datetime | None = None,
) -> dict[str, Any]:
    """`filters`/`variables` are what applies to this read (overrides included); `persisted_*` are stored."""
    board = row.dashboard
    return {
        "id": board.id,
        "name": board.name,
        "description": board.description,
        "pinned": board.pinned,
        "created_at": board.created_at,
        "created_by": user_basic(row.created_by),
        "last_accessed_at": board.last_accessed_at,
        "last_viewed_at": row.last_viewed_at,
        "is_shared": row.is_shared,
        "deleted": board.deleted,
        "creation_mode": board.creation_mode,
        "filters": board.filters if filters is None else filters,
        "variables": board.variables if variables is None else variables,
        "breakdown_colors": board.breakdown_colors,
        "data_color_theme_id": board.data_color_theme_id,
        "tags": list(board.tags or []),
        "restriction_level": board.restriction_level,
        "effective_restriction_level": board.restriction_level,
        "effective_privilege_level": privilege(row, viewer),
        "user_access_level": access_level(row, viewer),
        "access_control_version": "v1" if board.restriction_level > EVERYONE_CAN_EDIT else "v2",
        "last_refresh": last_refresh,
        "persisted_filters": board.filters,
        "persisted_variables": board.variables,
        "team_id": board.team_id,
        "quick_filter_ids": board.quick_filter_ids,
        "tiles": None,
    }


def text_out(text: DashboardText | None) -> dict[str, Any] | None:
    if text is None:
        return None
    return {
        "id": text.id,
        "body": text.body,
        "created_by": text.created_by_id,
        "last_modified_at": text.last_modified_at,
        "last_modified_by": text.last_modified_by_id,
        "team": text.team_id,
    }


def tile_out(
    tile: DashboardTile,
    text: DashboardText | None,
    order: int,
    insight: dict[str, Any] | None = None,
    error: dict[str, str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": tile.id,
        "layouts": tile.layouts or {},
        "color": tile.color,
        "insight": insight,
        "text": text_out(text),
        "order": order,
        "last_refresh": insight.get("last_refresh") if insight else None,
        "is_cached": bool(insight.get("is_cached")) if insight else False,
        "filters_overrides": tile.filters_overrides,
        "show_description": tile.show_description,
        "transparent_background": tile.transparent_background,
    }
    if error is not None:
        body["error"] = error
    return body


PUBLIC_INSIGHT_FIELDS = (
    "id", "short_id", "name", "derived_name", "description", "query", "result", "hasMore", "last_refresh",
    "is_cached", "timezone", "resolved_date_range",
)  # fmt: skip
PUBLIC_DASHBOARD_FIELDS = ("id", "name", "description", "filters", "variables", "last_refresh", "tiles")


def public_tile(tile: dict[str, Any]) -> dict[str, Any]:
    """What a sharing link shows of a tile: layout, text and the insight's result, no people or rights."""
    insight = tile.get("insight")
    shown: dict[str, Any] = {
        key: tile[key]
        for key in ("id", "layouts", "color", "order", "last_refresh", "is_cached")
        if key in tile
    }
    shown["insight"] = {key: insight.get(key) for key in PUBLIC_INSIGHT_FIELDS} if insight else None
    shown["text"] = {"body": tile["text"]["body"]} if tile.get("text") else None
    if "error" in tile:
        shown["error"] = tile["error"]
    return shown


def public_dashboard(body: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {key: body.get(key) for key in PUBLIC_DASHBOARD_FIELDS}
    shown["tiles"] = [public_tile(t) if "layouts" in t else t for t in body.get("tiles") or []]
    return shown
