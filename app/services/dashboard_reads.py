"""Reading a dashboard with its tiles: retrieve, run_insights, stream_tiles and shared links.

Everything that needs the database is loaded up front (`open_dashboard`); computing tiles then only
uses the execution layer, which takes its own connection per query. That is what lets
`stream_tiles` give its session back before the first byte is streamed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import APIError
from app.execution.modes import ExecutionMode
from app.execution.runner import ExecutionContext
from app.models import Project, User
from app.repositories.dashboard_rows import DashboardRow
from app.repositories.insights import Viewer
from app.schemas import dashboards as serializers
from app.services import dashboard_tiles, dashboards
from app.services.dashboard_tiles import TileContext, TileSet
from app.sse import TileJob, tile_messages

METADATA_TILES = 2  # PostHog embeds the first two tiles in the metadata message


@dataclass(frozen=True, slots=True)
class ReadOptions:
    mode: ExecutionMode = ExecutionMode.FORCE_CACHE
    filters_override: dict[str, Any] | None = None
    variables_override: dict[str, Any] | None = None
    layout_size: str = "sm"


@dataclass(slots=True)
class OpenDashboard:
    row: DashboardRow
    viewer: Viewer
    tiles: TileSet
    context: TileContext
    filters: dict[str, Any]
    variables: dict[str, Any]
    public: bool = False  # read through a sharing link: people and rights are left out

    def metadata(self, tiles: list[dict[str, Any]] | None = None, last_refresh: Any = None) -> dict[str, Any]:
        body = serializers.basic(
            self.row, self.viewer, filters=self.filters, variables=self.variables, last_refresh=last_refresh
        )
        body["tiles"] = tiles
        return serializers.public_dashboard(body) if self.public else body

    def shape(self, tile: dict[str, Any]) -> dict[str, Any]:
        return serializers.public_tile(tile) if self.public else tile


async def open_dashboard(
    session: AsyncSession,
    execution: ExecutionContext,
    project: Project,
    viewer: Viewer,
    user: User | None,
    dashboard_id: int,
    options: ReadOptions,
    *,
    row: DashboardRow | None = None,
    public: bool = False,
) -> OpenDashboard:
    """Load the dashboard, its sorted tiles and their insights; a signed-in read also counts as a view."""
    row = row or await dashboards.get_row(session, project, viewer, dashboard_id)
    if user is not None:
        await dashboards.touch(session, project, user, row)
    tile_set = await dashboard_tiles.load(session, project, viewer, row.dashboard.id, options.layout_size)
    filters = {**(row.dashboard.filters or {}), **(options.filters_override or {})}
    variables = {**(row.dashboard.variables or {}), **(options.variables_override or {})}
    context = TileContext(execution, project, viewer, row.dashboard, filters or None, options.mode)
    return OpenDashboard(row, viewer, tile_set, context, filters, variables, public)


async def full(opened: OpenDashboard) -> dict[str, Any]:
    tiles = await dashboard_tiles.compute_all(opened.context, opened.tiles)
    return opened.metadata(tiles, dashboard_tiles.newest_refresh(tiles))


async def run_insights(opened: OpenDashboard) -> list[dict[str, Any]]:
    """`[{id: tile id, insight: {id, short_id, name, derived_name, result}}]`; text tiles are skipped."""
    insight_tiles = TileSet([t for t in opened.tiles.tiles if t[0].insight_id is not None], opened.tiles.rows)
    tiles = await dashboard_tiles.compute_all(opened.context, insight_tiles)
    return [
        {
            "id": tile["id"],
            "insight": {
                key: tile["insight"][key] for key in ("id", "short_id", "name", "derived_name", "result")
            },
        }
        for tile in tiles
        if tile["insight"] is not None
    ]


async def stream(opened: OpenDashboard, concurrency: int) -> AsyncIterator[dict[str, Any]]:
    """PostHog's message sequence, tiles computed concurrently (bounded) and sent as each is ready.

    Every tile starts at once (under the bound); the metadata waits for the first two, which it
    embeds. Closing the stream cancels whatever is still running.
    """
    limit = asyncio.Semaphore(concurrency)
    tiles = opened.tiles.tiles

    async def compute(order: int) -> dict[str, Any]:
        tile, text = tiles[order]
        row = opened.tiles.row_for(tile)
        async with limit:
            computed = await dashboard_tiles.compute(opened.context, tile, text, row, order)
        return opened.shape(computed)

    running = [asyncio.ensure_future(compute(order)) for order in range(len(tiles))]
    try:
        embedded = []
        for order, task in enumerate(running[:METADATA_TILES]):
            try:
                embedded.append(await asyncio.shield(task))
            except APIError as exc:
                embedded.append({"id": tiles[order][0].id, "error": dashboard_tiles.error_body(exc)})
        jobs = [
            TileJob(order=order, tile_id=tiles[order][0].id) for order in range(METADATA_TILES, len(tiles))
        ]

        async def rest(job: TileJob) -> dict[str, Any]:
            return await asyncio.shield(running[job.order])

        async for message in tile_messages(opened.metadata(embedded), jobs, rest, concurrency=len(jobs) or 1):
            yield message
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


def _compact(result: Any) -> list[str]:
    if not isinstance(result, list) or not result:
        return ["- no data"]
    items = result[0] if isinstance(result[0], list) else result
    lines = []
    for item in items:
        if not isinstance(item, dict):
            return [orjson.dumps(result).decode()[:2000]]
        name = item.get("custom_name") or item.get("label") or item.get("name") or "series"
        if item.get("breakdown_value") not in (None, ""):
            name = f"{name} ({item['breakdown_value']})"
        total = item.get("aggregated_value", item.get("count"))
        line = f"- {name}: {total}"
        if item.get("data") and item.get("days"):
            line += " | " + ", ".join(f"{d}={v:g}" for d, v in zip(item["days"], item["data"], strict=False))
        lines.append(line)
    return lines


def optimized_text(results: list[dict[str, Any]]) -> str:
    """run_insights' `optimized` output: one short plain-text block per insight, meant for LLM prompts."""
    blocks = []
    for entry in results:
        insight = entry["insight"]
        title = insight["name"] or insight["derived_name"] or insight["short_id"]
        heading = f"## {title} (insight {insight['short_id']}, tile {entry['id']})"
        blocks.append("\n".join([heading, *_compact(insight["result"])]))
    return "\n\n".join(blocks)
