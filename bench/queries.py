"""Insight query latency, uncached: through the engine, and the same SQL run directly with asyncpg.

    uv run python bench/queries.py --events 1000000 10000000 --repeat 7

For each dataset size (the demo dataset over 90 days, loaded through the ingestion pipeline and kept
between runs), each query shape runs `--repeat` times through the engine (`prepare_query` +
`run`: normalize, compile, execute, shape) alternating with its captured statements run directly on
an asyncpg connection. Prints p50/p95 of both and the engine's overhead ratio (engine p50 / direct p50).
`--kinds` picks shape groups (`trends` here; `bench/queries_funnels.py` adds funnels, retention, paths).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.db import create_engine
from app.query import execute
from app.query.api import TeamContext, parse_query, prepare_query
from app.settings import Settings
from bench.common import DEMO_END, demo_database, p50, p95, timed_side_by_side

PAGEVIEWS = {"kind": "EventsNode", "event": "$pageview"}
LAST_30_DAYS = {"date_from": "-30d"}
TRENDS_SHAPES: dict[str, dict[str, Any]] = {
    "count by day 30d": {"kind": "TrendsQuery", "series": [PAGEVIEWS], "dateRange": LAST_30_DAYS},
    "DAU 30d": {"kind": "TrendsQuery", "series": [{**PAGEVIEWS, "math": "dau"}], "dateRange": LAST_30_DAYS},
    "breakdown $browser 30d": {
        "kind": "TrendsQuery",
        "series": [PAGEVIEWS],
        "dateRange": LAST_30_DAYS,
        "breakdownFilter": {"breakdown": "$browser", "breakdown_type": "event"},
    },
    "property filter 30d": {
        "kind": "TrendsQuery",
        "series": [PAGEVIEWS],
        "dateRange": LAST_30_DAYS,
        "properties": [
            {"type": "event", "key": "$browser", "operator": "exact", "value": ["Chrome", "Firefox"]},
            {"type": "event", "key": "$geoip_country_code", "operator": "exact", "value": "US"},
        ],
    },
    "weekly 90d": {
        "kind": "TrendsQuery",
        "series": [PAGEVIEWS],
        "interval": "week",
        "dateRange": {"date_from": "-90d"},
    },
    "stickiness 30d": {"kind": "StickinessQuery", "series": [PAGEVIEWS], "dateRange": LAST_30_DAYS},
    "lifecycle 30d": {"kind": "LifecycleQuery", "series": [PAGEVIEWS], "dateRange": LAST_30_DAYS},
}
SHAPE_GROUPS: dict[str, dict[str, dict[str, Any]]] = {"trends": TRENDS_SHAPES}


async def measure(
    url: str, team_id: int, shapes: dict[str, dict[str, Any]], repeat: int
) -> list[tuple[str, ...]]:
    engine = create_engine(Settings(DATABASE_URL=url), pool_size=1)
    # Per engine connection, in order: a query's shares run on connections of their own
    # (`execute.fetch_side_by_side`), and run directly side by side too.
    captured: dict[int, list[tuple[str, tuple[Any, ...]]]] = {}
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda conn, _cursor, statement, parameters, _context, _many: captured.setdefault(
            id(conn.connection), []
        ).append((statement, parameters)),
    )
    directs = [await asyncpg.connect(url) for _ in range(execute.SHARES)]
    now = DEMO_END - timedelta(seconds=1)  # the dataset's last moment: "-30d" means its last 30 days
    team = TeamContext(id=team_id)
    rows = []
    try:
        for name, query in shapes.items():
            prepared = prepare_query(parse_query(query), team, now=now)

            async def through_engine() -> None:
                captured.clear()
                async with engine.connect() as connection:
                    await prepared.run(connection)  # noqa: B023 - awaited within the iteration

            await through_engine()  # captures the statements to run directly
            per_connection = list(captured.values())

            async def directly() -> None:
                await asyncio.gather(
                    *(
                        run_in_transaction(direct, statements)
                        for direct, statements in zip(directs, per_connection, strict=False)  # noqa: B023
                    )
                )

            engine_times, direct_times = await timed_side_by_side(through_engine, directly, repeat)
            rows.append(
                (
                    name,
                    f"{p50(engine_times) * 1000:.0f}",
                    f"{p95(engine_times) * 1000:.0f}",
                    f"{p50(direct_times) * 1000:.0f}",
                    f"{p95(direct_times) * 1000:.0f}",
                    f"{p50(engine_times) / p50(direct_times):.2f}",
                )
            )
    finally:
        for direct in directs:
            await direct.close()
        await engine.dispose()
    return rows


async def run_in_transaction(
    direct: asyncpg.Connection, statements: list[tuple[str, tuple[Any, ...]]]
) -> None:
    """In one transaction, as the engine runs them: its transaction-local settings
    (`execute.tune_session`) then apply to the direct statements too."""
    async with direct.transaction():
        for statement, parameters in statements:
            await direct.fetch(statement, *parameters)


def print_table(events: int, rows: list[tuple[str, ...]]) -> None:
    print(f"\n{events:,} events (demo dataset, 90 days)")
    header = ("shape", "engine p50 ms", "p95", "direct SQL p50 ms", "p95", "overhead")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(
                str(cell).ljust(w) if i == 0 else str(cell).rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )


async def main(groups: dict[str, dict[str, dict[str, Any]]]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--kinds", default=",".join(groups), help=f"shape groups: {', '.join(groups)}")
    parser.add_argument("--shapes", help="only the shapes whose names contain one of these (comma-separated)")
    args = parser.parse_args()
    shapes = {
        name: q
        for kind in args.kinds.split(",")
        for name, q in groups[kind].items()
        if not args.shapes or any(part in name for part in args.shapes.split(","))
    }
    for events in args.events:
        url, team_id = await demo_database(events)
        print_table(events, await measure(url, team_id, shapes, args.repeat))


if __name__ == "__main__":
    asyncio.run(main(SHAPE_GROUPS))
