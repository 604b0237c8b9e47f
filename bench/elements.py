"""Element stats and values latency: through the HTTP endpoint, and the same SQL run bare on asyncpg.

    uv run python bench/elements.py --events 1000000 --repeat 7

The demo dataset (90 days, loaded through the ingestion pipeline and kept between runs; ~20% of its
events are autocapture clicks) is queried over its own last days, so every run measures the same
rows. For each shape the endpoint runs `--repeat` times in process (ASGI app with its lifespan,
auth, parameter parsing, SQL, chain parsing, hashing, JSON), then the statements it sent run directly
on an asyncpg connection. Prints p50/p95 of both and the endpoint's overhead ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.db import create_engine, create_sessionmaker
from app.main import create_app
from app.services import identity as identity_service
from app.settings import Settings
from bench.common import DEMO_END, demo_database, p50, p95, timed_side_by_side


def shapes() -> dict[str, dict[str, str]]:
    last_day = DEMO_END - timedelta(days=1)

    def days(n: int) -> dict[str, str]:
        return {
            "date_from": (DEMO_END - timedelta(days=n)).date().isoformat(),
            "date_to": last_day.date().isoformat(),
        }

    return {
        "stats 7d, all click types": {"path": "stats", **days(7)},
        "stats 30d, all click types": {"path": "stats", **days(30)},
        "stats 30d, $rageclick only": {"path": "stats", "include": "$rageclick", **days(30)},
        "stats 30d, page of 100": {"path": "stats", "limit": "100", **days(30)},
        "stats 30d, property filter": {
            "path": "stats",
            "properties": '[{"key":"$browser","value":"Chrome","operator":"exact","type":"event"}]',
            **days(30),
        },
        "values text": {"path": "values", "key": "text"},
        "values tag_name containing 'utt'": {"path": "values", "key": "tag_name", "value": "utt"},
    }


async def measure(url: str, repeat: int, redis_url: str) -> list[tuple[str, ...]]:
    engine = create_engine(Settings(DATABASE_URL=url), pool_size=1)
    async with create_sessionmaker(engine)() as session:
        bootstrap = await identity_service.bootstrap(session)
        await session.commit()
    await engine.dispose()
    app = create_app(Settings(DATABASE_URL=url, REDIS_URL=redis_url, SITE_URL="http://bench"))
    headers = {"Authorization": f"Bearer {bootstrap.personal_api_key}"}
    base = f"/api/projects/{bootstrap.project.id}/elements"
    direct = await asyncpg.connect(url)
    rows = []
    async with app.router.lifespan_context(app):
        captured: list[tuple[str, Any]] = []
        event.listen(
            app.state.engine.sync_engine,
            "before_cursor_execute",
            lambda _conn, _cursor, statement, parameters, _context, _many: captured.append(
                (statement, parameters)
            ),
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for name, shape in shapes().items():
                params = {k: v for k, v in shape.items() if k != "path"}
                path = f"{base}/{shape['path']}/"
                statements: list[tuple[str, Any]] = []

                async def endpoint() -> None:
                    captured.clear()
                    response = await client.get(path, params=params, headers=headers)  # noqa: B023
                    response.raise_for_status()
                    statements[:] = [s for s in captured if "elements_chain" in s[0]]  # noqa: B023

                body = (await client.get(path, params=params, headers=headers)).json()
                found = len(body["results"] if isinstance(body, dict) else body)

                async def bare() -> None:
                    for statement, parameters in statements:  # noqa: B023
                        await direct.fetch(statement, *parameters)

                endpoint_times, bare_times = await timed_side_by_side(endpoint, bare, repeat)
                rows.append(
                    (
                        name,
                        str(found),
                        f"{p50(endpoint_times) * 1000:.1f}",
                        f"{p95(endpoint_times) * 1000:.1f}",
                        f"{p50(bare_times) * 1000:.1f}",
                        f"{p95(bare_times) * 1000:.1f}",
                        f"{p50(endpoint_times) / p50(bare_times):.2f}",
                    )
                )
    await direct.close()
    return rows


def print_table(events: int, clicks: int, rows: list[tuple[str, ...]]) -> None:
    print(f"\n{events:,} events ({clicks:,} clicks; demo dataset, 90 days)")
    header = ("shape", "rows", "endpoint p50 ms", "p95", "bare SQL p50 ms", "p95", "overhead")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"))
    args = parser.parse_args()
    for events in args.events:
        url, _ = await demo_database(events)
        connection = await asyncpg.connect(url)
        try:
            clicks = await connection.fetchval(
                "SELECT count(*) FROM events WHERE event = ANY($1) AND elements_chain <> ''",
                ["$autocapture", "$rageclick", "$dead_click"],
            )
        finally:
            await connection.close()
        print_table(events, clicks, await measure(url, args.repeat, args.redis))


if __name__ == "__main__":
    asyncio.run(main())
