"""Funnel, retention and paths latency, uncached: engine vs the same SQL run directly (see queries.py).

uv run python bench/queries_funnels.py --events 1000000 10000000 --repeat 5
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.queries import LAST_30_DAYS, PAGEVIEWS, main

STEPS_3 = [
    PAGEVIEWS,
    {"kind": "EventsNode", "event": "signed_up"},
    {"kind": "EventsNode", "event": "project_created"},
]
STEPS_5 = [
    PAGEVIEWS,
    {"kind": "EventsNode", "event": "$autocapture"},
    {"kind": "EventsNode", "event": "signed_up"},
    {"kind": "EventsNode", "event": "project_created"},
    {"kind": "EventsNode", "event": "purchase"},
]
WINDOW = {"funnelWindowInterval": 14, "funnelWindowIntervalUnit": "day"}


def funnel(steps: list[dict[str, Any]], **funnels_filter: Any) -> dict[str, Any]:
    return {
        "kind": "FunnelsQuery",
        "series": steps,
        "dateRange": LAST_30_DAYS,
        "funnelsFilter": {**WINDOW, **funnels_filter},
    }


FUNNEL_SHAPES: dict[str, dict[str, Any]] = {
    "funnel 3 steps ordered": funnel(STEPS_3),
    "funnel 5 steps ordered": funnel(STEPS_5),
    "funnel 3 steps strict": funnel(STEPS_3, funnelOrderType="strict"),
    "funnel 3 steps unordered": funnel(STEPS_3, funnelOrderType="unordered"),
    "funnel time_to_convert": funnel(STEPS_3, funnelVizType="time_to_convert"),
    "retention 8 weeks": {
        "kind": "RetentionQuery",
        "retentionFilter": {
            "period": "Week",
            "totalIntervals": 8,
            "targetEntity": {"id": "$pageview", "type": "events"},
            "returningEntity": {"id": "$pageview", "type": "events"},
        },
    },
    "paths 5 steps": {
        "kind": "PathsQuery",
        "dateRange": LAST_30_DAYS,
        "pathsFilter": {"includeEventTypes": ["$pageview"], "stepLimit": 5},
    },
}

if __name__ == "__main__":
    asyncio.run(main({"funnels": FUNNEL_SHAPES}))
