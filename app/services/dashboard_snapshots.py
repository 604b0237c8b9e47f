"""Before/after comparison of a dashboard's results without an LLM (`snapshot`, `analyze_refresh_result`).

A snapshot is the dashboard's cached state (or what the client says it showed) kept in Redis for 30
minutes under `dashboard_refresh_before_{dashboard}_{user}_{timestamp}`; the analysis compares it
with the current cached state tile by tile: every number that changed, with its delta.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import orjson
from redis.asyncio import Redis

from app.errors import ValidationError
from app.responses import dumps
from app.services import dashboard_tiles
from app.services.dashboard_reads import OpenDashboard

SNAPSHOT_TTL_SECONDS = 30 * 60
NO_CHANGES = "No significant changes detected in the dashboard data."


def _key_prefix(dashboard_id: int, user_id: int) -> str:
    return f"dashboard_refresh_before_{dashboard_id}_{user_id}_"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


def figures(result: Any) -> dict[str, float]:
    """The numbers a result shows, by name: series totals (with breakdown value) or funnel step counts."""
    if not isinstance(result, list):
        return {}
    items = result[0] if result and isinstance(result[0], list) else result
    found: dict[str, float] = {}
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue
        name = str(item.get("custom_name") or item.get("label") or item.get("name") or f"#{index + 1}")
        if item.get("breakdown_value") not in (None, ""):
            name += f" ({item['breakdown_value']})"
        if item.get("compare_label"):
            name += f" [{item['compare_label']}]"
        value = _number(item.get("aggregated_value", item.get("count")))
        if value is not None:
            found[name] = value
    return found


async def _state(opened: OpenDashboard) -> dict[str, dict[str, Any]]:
    tiles = await dashboard_tiles.compute_all(opened.context, opened.tiles)
    return {
        str(tile["id"]): {
            "insight_name": tile["insight"]["name"] or tile["insight"]["derived_name"],
            "data": tile["insight"]["result"],
        }
        for tile in tiles
        if tile["insight"] is not None
    }


async def snapshot(
    redis: Redis, opened: OpenDashboard, user_id: int, client_results: Mapping[str, Any] | None
) -> str:
    state = await _state(opened)
    for tile_id, shown in (client_results or {}).items():
        if isinstance(shown, Mapping):
            state[str(tile_id)] = {"insight_name": shown.get("insight_name"), "data": shown.get("data")}
    key = f"{_key_prefix(opened.row.dashboard.id, user_id)}{int(time.time() * 1000)}"
    await redis.set(key, dumps(state), ex=SNAPSHOT_TTL_SECONDS)
    return key


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    changes = []
    for tile_id, now in after.items():
        then = before.get(tile_id)
        if then is None:
            continue
        old, new = figures(then.get("data")), figures(now.get("data"))
        for name in sorted(set(old) | set(new)):
            a, b = old.get(name), new.get(name)
            if a == b:
                continue
            change: dict[str, Any] = {
                "tile_id": int(tile_id),
                "insight_name": now.get("insight_name"),
                "series": name,
                "before": a,
                "after": b,
                "delta": None if a is None or b is None else b - a,
                "delta_pct": round((b - a) / abs(a) * 100, 1) if a and b is not None else None,
            }
            changes.append(change)
    return changes


def _describe(change: Mapping[str, Any]) -> str:
    if change["before"] is None:
        return f"{change['insight_name']}: {change['series']} appeared ({change['after']:g})"
    if change["after"] is None:
        return f"{change['insight_name']}: {change['series']} disappeared (was {change['before']:g})"
    pct = f", {change['delta_pct']:+.1f}%" if change["delta_pct"] is not None else ""
    return (
        f"{change['insight_name']}: {change['series']} went from {change['before']:g} to "
        f"{change['after']:g} ({change['delta']:+g}{pct})"
    )


async def analyze(redis: Redis, opened: OpenDashboard, user_id: int, cache_key: str | None) -> dict[str, Any]:
    if not cache_key:
        raise ValidationError("cache_key is required", code="required", attr="cache_key")
    expired = ValidationError("The snapshot has expired or does not exist; take a new one.", attr="cache_key")
    if not cache_key.startswith(_key_prefix(opened.row.dashboard.id, user_id)):
        raise expired
    raw = await redis.get(cache_key)
    if raw is None:
        raise expired
    changes = compare(orjson.loads(raw), await _state(opened))
    text = "; ".join(_describe(c) for c in changes) + "." if changes else NO_CHANGES
    return {"result": text, "changes": changes}
