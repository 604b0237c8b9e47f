"""Events seeded through the ingestion pipeline, so definitions and chains are what SDKs produce."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from app.ingestion.events import normalize_events
from app.ingestion.pipeline import Ingestor


def click(
    event: str,
    timestamp: datetime,
    elements: list[dict[str, Any]],
    distinct_id: str = "u1",
    **properties: Any,
) -> dict[str, Any]:
    """An autocapture-style event with posthog-js's `$elements` list (order 0 = the clicked element)."""
    return {
        "event": event,
        "distinct_id": distinct_id,
        "timestamp": timestamp.isoformat(),
        "properties": {"$elements": elements, **properties},
    }


def event(name: str, timestamp: datetime, distinct_id: str = "u1", **properties: Any) -> dict[str, Any]:
    return {
        "event": name,
        "distinct_id": distinct_id,
        "timestamp": timestamp.isoformat(),
        "properties": properties,
    }


async def ingest(engine: AsyncEngine, team_id: int, raws: list[dict[str, Any]], now: datetime) -> None:
    """One batch through the pipeline (persons, events, definitions), as `/batch` would store it."""
    await Ingestor(engine).ingest(team_id, normalize_events(raws, now=now, sent_at=None))
