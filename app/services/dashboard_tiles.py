"""Tiles: layout order, results under the dashboard's filters, edits, moves and reordering.

Tile results go through `insight_queries.run` with the dashboard's filters (a request's
`filters_override` on top, a tile's own `filters_overrides` winning over both) and the dashboard id,
so they share the insight cache and its single flight with every other reader.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import APIError, NotFound, PermissionDenied, ValidationError
from app.execution.modes import ExecutionMode
from app.execution.runner import ExecutionContext
from app.models import Dashboard, DashboardText, DashboardTile, Project, User
from app.models.base import utcnow
from app.repositories import dashboard_rows
from app.repositories import insights as insights_repo
from app.repositories.insights import InsightRow, Viewer
from app.schemas import dashboards as serializers
from app.schemas import insights as insight_serializers
from app.schemas.generated.dashboards import TileWrite
from app.services.insight_queries import RunContext, merge_filters, run, run_bound

LAYOUT_SIZES = ("sm", "xs")
MISSING_COORDINATE = 100
GRID_COLUMNS = 12
DEFAULT_W, DEFAULT_H = 6, 5
COMPUTE_CONCURRENCY = 4
MAX_TEXT = 4000

Tile = tuple[DashboardTile, DashboardText | None]


def layout_size(raw: str | None) -> str:
    """Invalid sizes silently fall back to `sm` (PostHog)."""
    return raw if raw in LAYOUT_SIZES else "sm"


def _coordinate(tile: DashboardTile, size: str, axis: str) -> float:
    value = ((tile.layouts or {}).get(size) or {}).get(axis)
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else MISSING_COORDINATE
    )


def sort_tiles(tiles: Sequence[Tile], size: str) -> list[Tile]:
    """By the layout's y, then x (missing coordinates count as 100), then id."""
    return sorted(tiles, key=lambda t: (_coordinate(t[0], size, "y"), _coordinate(t[0], size, "x"), t[0].id))


@dataclass(slots=True)
class TileSet:
    tiles: list[Tile]  # in layout order
    rows: dict[int, InsightRow]  # insight id → row

    def row_for(self, tile: DashboardTile) -> InsightRow | None:
        return self.rows.get(tile.insight_id) if tile.insight_id is not None else None


async def load(
    session: AsyncSession, project: Project, viewer: Viewer, dashboard_id: int, size: str
) -> TileSet:
    tiles = sort_tiles(await dashboard_rows.tiles(session, project.id, dashboard_id), size)
    ids = [tile.insight_id for tile, _ in tiles if tile.insight_id is not None]
    rows = await insights_repo.load_rows(session, project.id, viewer, ids)
    # An insight the viewer may not see is not shown on their dashboard either.
    visible = {i: row for i, row in rows.items() if insight_serializers.access_level(row, viewer) != "none"}
    return TileSet([t for t in tiles if t[0].insight_id is None or t[0].insight_id in visible], visible)


@dataclass(frozen=True, slots=True)
class TileContext:
    execution: ExecutionContext
    project: Project
    viewer: Viewer
    dashboard: Dashboard
    filters: Mapping[str, Any] | None  # the dashboard's filters for this read, overrides included
    mode: ExecutionMode


async def compute(
    context: TileContext, tile: DashboardTile, text: DashboardText | None, row: InsightRow | None, order: int
) -> dict[str, Any]:
    """The serialized tile with its insight's result; raises the insight's error when it can't run."""
    if row is None:
        return serializers.tile_out(tile, text, order)
    filters = merge_filters(context.filters, None, tile.filters_overrides)
    results = await run(
        context.execution,
        context.project,
        row.insight,
        RunContext(context.mode, filters=filters, dashboard_id=context.dashboard.id),
    )
    insight = insight_serializers.full(row, context.viewer, context.project.timezone, results, tile)
    return serializers.tile_out(tile, text, order, insight)


def error_body(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "message": str(exc) or type(exc).__name__}


async def compute_all(context: TileContext, tile_set: TileSet) -> list[dict[str, Any]]:
    """Every tile, a few computations at a time; a failing tile is returned with its `error`, never
    failing the rest."""
    limit = run_bound(context.mode, len(tile_set.tiles), COMPUTE_CONCURRENCY)

    async def one(order: int, tile: DashboardTile, text: DashboardText | None) -> dict[str, Any]:
        row = tile_set.row_for(tile)
        async with limit:
            try:
                return await compute(context, tile, text, row, order)
            except APIError as exc:
                insight = (
                    insight_serializers.full(row, context.viewer, context.project.timezone, None, tile)
                    if row
                    else None
                )
                return serializers.tile_out(tile, text, order, insight, error_body(exc))

    return list(await asyncio.gather(*(one(i, tile, text) for i, (tile, text) in enumerate(tile_set.tiles))))


def newest_refresh(tiles: Sequence[Mapping[str, Any]]) -> Any:
    refreshed = [t["last_refresh"] for t in tiles if t.get("last_refresh")]
    return max(refreshed, default=None)


def _check_text(body: Any, attr: str) -> str:
    if not isinstance(body, str):
        raise ValidationError("Not a valid string.", attr=attr)
    if len(body) > MAX_TEXT:
        raise ValidationError(
            f"Ensure this field has no more than {MAX_TEXT} characters.", code="max_length", attr=attr
        )
    return body


async def apply_edits(
    session: AsyncSession, project: Project, user: User, dashboard: Dashboard, edits: Sequence[TileWrite]
) -> None:
    """PATCH `tiles`: edit existing tiles in place (or soft-delete them), create new text tiles."""
    existing = {
        tile.id: (tile, text) for tile, text in await dashboard_rows.tiles(session, project.id, dashboard.id)
    }
    for index, edit in enumerate(edits):
        fields = edit.model_dump(exclude_unset=True)
        attr = f"tiles__{index}"
        if edit.id is None:
            if edit.text is None or edit.text.body is None:
                raise ValidationError("A new tile needs a text body.", attr=f"{attr}__text")
            text = DashboardText(
                team_id=project.id,
                body=_check_text(edit.text.body, f"{attr}__text__body"),
                created_by_id=user.id,
                last_modified_by_id=user.id,
            )
            session.add(text)
            await session.flush()
            tile = DashboardTile(team_id=project.id, dashboard_id=dashboard.id, text_id=text.id)
            session.add(tile)
            current: Tile = (tile, text)
        elif edit.id in existing:
            current = existing[edit.id]
        else:
            raise ValidationError(f"Tile {edit.id} is not on this dashboard.", attr=f"{attr}__id")
        tile, tile_text = current
        for name in ("layouts", "color", "filters_overrides", "show_description", "transparent_background"):
            if name in fields:
                setattr(tile, name, fields[name] if name != "layouts" else (fields[name] or {}))
        if "deleted" in fields:
            tile.deleted = bool(fields["deleted"])
        if edit.id is not None and edit.text is not None and edit.text.body is not None:
            if tile_text is None:
                raise ValidationError("This tile is not a text tile.", attr=f"{attr}__text")
            tile_text.body = _check_text(edit.text.body, f"{attr}__text__body")
            tile_text.last_modified_at, tile_text.last_modified_by_id = utcnow(), user.id
    await session.flush()


async def move(
    session: AsyncSession,
    project: Project,
    source: Dashboard,
    destination: Dashboard | None,
    tile_id: int,
    can_edit_destination: bool,
) -> None:
    tiles = {tile.id: tile for tile, _ in await dashboard_rows.tiles(session, project.id, source.id)}
    tile = tiles.get(tile_id)
    if tile is None or destination is None:
        raise NotFound()
    if not can_edit_destination:
        raise PermissionDenied("You don't have edit permissions for the destination dashboard.")
    if destination.id == source.id:
        raise ValidationError(
            "Destination must be a different dashboard than the source.", attr="to_dashboard"
        )
    tile.dashboard_id = destination.id
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise ValidationError(
            "This insight is already on the destination dashboard.", attr="to_dashboard"
        ) from None


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _size(tile: DashboardTile) -> tuple[int, int]:
    sm = (tile.layouts or {}).get("sm") or {}
    w, h = sm.get("w"), sm.get("h")
    width = min(max(int(w), 1), GRID_COLUMNS) if isinstance(w, int) and not isinstance(w, bool) else DEFAULT_W
    height = max(int(h), 1) if isinstance(h, int) and not isinstance(h, bool) else DEFAULT_H
    return width, height


def pack(sizes: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """(x, y) for each (w, h) in order: the lowest, then leftmost, free spot on a 12-column grid."""
    placed: list[tuple[int, int, int, int]] = []
    spots = []
    for w, h in sizes:
        y = 0
        while True:
            spot = next(
                (
                    x
                    for x in range(GRID_COLUMNS - w + 1)
                    if not any(_overlaps((x, y, w, h), p) for p in placed)
                ),
                None,
            )
            if spot is not None:
                break
            y += 1
        placed.append((spot, y, w, h))
        spots.append((spot, y))
    return spots


def new_layouts(tiles: Sequence[DashboardTile], layout: str) -> list[dict[str, Any]]:
    if layout == "two_column":
        sm = [{"x": (i % 2) * 6, "y": (i // 2) * 5, "w": 6, "h": 5} for i in range(len(tiles))]
    elif layout == "full_width":
        sizes = [(GRID_COLUMNS, _size(t)[1]) for t in tiles]
        sm = [{"x": 0, "y": sum(h for _, h in sizes[:i]), "w": w, "h": h} for i, (w, h) in enumerate(sizes)]
    else:
        sizes = [_size(t) for t in tiles]
        sm = [{"x": x, "y": y, "w": w, "h": h} for (x, y), (w, h) in zip(pack(sizes), sizes, strict=True)]
    heights = [s["h"] for s in sm]
    return [
        {
            **(tile.layouts or {}),
            "sm": {**((tile.layouts or {}).get("sm") or {}), **sm[i]},
            "xs": {"x": 0, "y": sum(heights[:i]), "w": 1, "h": heights[i]},
        }
        for i, tile in enumerate(tiles)
    ]


async def reorder(
    session: AsyncSession, project: Project, dashboard: Dashboard, tile_order: Sequence[int], layout: str
) -> None:
    if len(set(tile_order)) != len(tile_order):
        raise ValidationError("tile_order must contain unique tile IDs", attr="tile_order")
    current = [
        tile for tile, _ in sort_tiles(await dashboard_rows.tiles(session, project.id, dashboard.id), "sm")
    ]
    by_id = {tile.id: tile for tile in current}
    missing = [tile_id for tile_id in tile_order if tile_id not in by_id]
    if missing:
        raise NotFound(f"Tile IDs not found on this dashboard: {missing}")
    ordered = [by_id[i] for i in tile_order] + [t for t in current if t.id not in set(tile_order)]
    for tile, layouts in zip(ordered, new_layouts(ordered, layout), strict=True):
        tile.layouts = layouts
    await session.flush()
