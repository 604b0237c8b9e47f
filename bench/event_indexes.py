"""Which indexes the events table should have: load cost against query time, measured side by side.

    uv run python bench/event_indexes.py --events 1000000

For each candidate index set, on the same demo rows: the load rate (binary COPY into an emptied
table that already has the indexes, as live ingestion pays them), then p50 of the hot query shapes
run through the engine after VACUUM ANALYZE. Ratios are against the first variant.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.db import create_engine
from app.query.api import TeamContext, parse_query, prepare_query
from app.settings import Settings
from bench.common import DEMO_END, EVENT_COLUMNS, demo_rows, p50, reset_database, timed

TEAM = 1
VARIANTS: dict[str, list[str]] = {
    "event+ts, ts": [
        "CREATE INDEX ix_events_team_event_timestamp ON events (team_id, event, timestamp)",
        "CREATE INDEX ix_events_team_timestamp ON events (team_id, timestamp)",
    ],
    "+ person": [
        "CREATE INDEX ix_events_team_event_timestamp ON events (team_id, event, timestamp)",
        "CREATE INDEX ix_events_team_timestamp ON events (team_id, timestamp)",
        "CREATE INDEX ix_events_team_person ON events (team_id, person_id)",
    ],
    "event+ts incl person, ts, person": [
        "CREATE INDEX ix_events_team_event_timestamp ON events (team_id, event, timestamp) "
        "INCLUDE (person_id)",
        "CREATE INDEX ix_events_team_timestamp ON events (team_id, timestamp)",
        "CREATE INDEX ix_events_team_person ON events (team_id, person_id)",
    ],
    "event+ts incl person+promoted, ts, person": [
        "CREATE INDEX ix_events_team_event_timestamp ON events (team_id, event, timestamp) "
        "INCLUDE (person_id, mat_browser, mat_os, mat_device_type, mat_geoip_country_code)",
        "CREATE INDEX ix_events_team_timestamp ON events (team_id, timestamp)",
        "CREATE INDEX ix_events_team_person ON events (team_id, person_id)",
    ],
    "event+ts, brin ts, person": [
        "CREATE INDEX ix_events_team_event_timestamp ON events (team_id, event, timestamp)",
        "CREATE INDEX ix_events_timestamp_brin ON events USING brin (timestamp)",
        "CREATE INDEX ix_events_team_person ON events (team_id, person_id)",
    ],
}
QUERIES = {
    "count/day 30d": {"series": [{"kind": "EventsNode", "event": "$pageview"}],
                      "dateRange": {"date_from": "-30d"}},
    "DAU 30d": {"series": [{"kind": "EventsNode", "event": "$pageview", "math": "dau"}],
                "dateRange": {"date_from": "-30d"}},
    "all events/day 7d": {"series": [{"kind": "EventsNode"}], "dateRange": {"date_from": "-7d"}},
    "by $browser 7d": {"series": [{"kind": "EventsNode", "event": "$pageview"}],
                       "dateRange": {"date_from": "-7d"},
                       "breakdownFilter": {"breakdown": "$browser", "breakdown_type": "event"}},
    "by $browser 30d": {"series": [{"kind": "EventsNode", "event": "$pageview"}],
                        "dateRange": {"date_from": "-30d"},
                        "breakdownFilter": {"breakdown": "$browser", "breakdown_type": "event"}},
}  # fmt: skip


async def load(url: str, days: list[list[tuple[object, ...]]], indexes: list[str]) -> float:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("TRUNCATE events")
        for name in await connection.fetch(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'events' AND indexname <> 'pk_events'"
        ):
            await connection.execute(f'DROP INDEX "{name["indexname"]}"')
        for statement in indexes:
            await connection.execute(statement)
        started = time.perf_counter()
        for rows in days:
            for at in range(0, len(rows), 10_000):
                await connection.copy_records_to_table(
                    "events", records=rows[at : at + 10_000], columns=EVENT_COLUMNS
                )
        seconds = time.perf_counter() - started
        await connection.execute("VACUUM ANALYZE events")
        return sum(len(r) for r in days) / seconds
    finally:
        await connection.close()


async def query_times(url: str, repeat: int) -> dict[str, float]:
    engine = create_engine(Settings(DATABASE_URL=url), pool_size=1)
    team = TeamContext(id=TEAM)
    now = DEMO_END - timedelta(seconds=1)  # the dataset's last moment
    results = {}
    try:
        for name, query in QUERIES.items():
            prepared = prepare_query(parse_query({"kind": "TrendsQuery", **query}), team, now=now)

            async def run() -> None:
                async with engine.connect() as connection:
                    await prepared.run(connection)  # noqa: B023 - awaited within the iteration

            results[name] = p50(await timed(run, repeat))
    finally:
        await engine.dispose()
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    url = await reset_database("bench_indexes")
    days = list(demo_rows(args.events, TEAM))
    print(f"{args.events:,} demo events, team {TEAM}; query p50 over {args.repeat} runs\n")
    header = f"{'indexes':42} {'load rows/s':>12} {'ratio':>6}  " + "  ".join(f"{q:>18}" for q in QUERIES)
    print(header)
    baseline = None
    for name, indexes in VARIANTS.items():
        rate = await load(url, days, indexes)
        baseline = baseline or rate
        times = await query_times(url, args.repeat)
        cells = "  ".join(f"{times[q] * 1000:>15.1f} ms" for q in QUERIES)
        print(f"{name:42} {rate:>12,.0f} {rate / baseline:>6.2f}  {cells}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
