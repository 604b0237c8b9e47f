"""Dashboard `stream_tiles`: time to first and last tile, cold and warm, 1/10/50 subscribers; idle capacity.

    uv run python bench/stream.py                                  # 1M demo events, 20 tiles, 1,000 idle
    uv run python bench/stream.py --events 20000 --subscribers 1,3 --idle 50   # a quick check

Loads the demo dataset (kept between runs, see bench/common.py), starts its own `analytics serve
--no-worker` on it (Redis db 15 by default, flushed for every cold run), builds a dashboard of
`--tiles` insights (trends of every kind over the dataset's last 30 days, so results are fully
historical and never go stale), then streams it with `refresh=blocking`:

- cold: empty result cache; warm: every tile cached. Times are from the request: to the metadata
  message (which embeds the first two tiles), to the first tile after it, to `complete`.
- database work: scans of the events table during the run (pg_stat_user_tables), so N concurrent
  subscribers can be compared with one (identical tile queries are computed once).
- idle capacity: `--idle` streams held open on a one-tile dashboard whose query is blocked by a lock
  (so every stream waits for its tile), memory of the server's process tree per open stream.

Targets (issue 7): warm 20-tile dashboard complete ≤ 100 ms; cold first tile ≤ 300 ms after the
metadata; 50 subscribers cost no more database work than 1; 1,000 idle streams at < 50 KiB each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DEMO_END, demo_database, free_port, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
DATE_RANGE = {
    "date_from": (DEMO_END - timedelta(days=30)).date().isoformat(),
    "date_to": DEMO_END.date().isoformat(),
}
TARGET_WARM_MS, TARGET_FIRST_TILE_MS, TARGET_KIB_PER_STREAM = 100.0, 300.0, 50.0
STATS_DELAY_SECONDS = float(os.environ.get("STATS_DELAY", "11"))


def _shapes(count: int) -> list[dict[str, Any]]:
    events = ["$pageview", "$autocapture", "signed_up", "project_created", "purchase"]
    maths = ["total", "dau", "weekly_active"]
    breakdowns = [None, "$browser", "$os", "$geoip_country_code", "$device_type"]
    shapes = []
    for n in range(count):
        source: dict[str, Any] = {
            "kind": "TrendsQuery",
            "series": [
                {"kind": "EventsNode", "event": events[n % len(events)], "math": maths[n % len(maths)]}
            ],
            "dateRange": DATE_RANGE,
            "interval": "day" if n % 4 else "week",
        }
        if breakdown := breakdowns[(n // len(events)) % len(breakdowns)]:
            source["breakdownFilter"] = {"breakdown": breakdown, "breakdown_type": "event"}
        shapes.append({"kind": "InsightVizNode", "source": source})
    return shapes


@dataclass
class Timing:
    metadata: float
    first_tile: float | None
    complete: float
    messages: int
    cached: int  # tiles served from the result cache


async def stream_once(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> Timing:
    started = time.perf_counter()
    metadata = first = done = None
    count = cached = 0
    async with client.stream("GET", url, headers=headers) as response:
        if response.status_code != 200:
            raise SystemExit(f"stream answered {response.status_code}: {(await response.aread())[:200]!r}")
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            message = json.loads(line[6:])
            count += 1
            now = time.perf_counter() - started
            tiles = message["dashboard"]["tiles"] if message["type"] == "metadata" else [message.get("tile")]
            cached += sum(1 for tile in tiles if tile and tile.get("is_cached"))
            if message["type"] == "metadata":
                metadata = now
            elif message["type"] in ("tile", "error") and first is None:
                first = now
            elif message["type"] == "complete":
                done = now
                break
    if metadata is None or done is None:
        raise SystemExit("the stream ended before its metadata and complete messages")
    return Timing(metadata, first, done, count, cached)


async def events_scans(db_url: str) -> int:
    connection = await asyncpg.connect(db_url)
    try:
        # Backends publish table statistics once a second while busy and 10 s after going idle (PG 15).
        await asyncio.sleep(STATS_DELAY_SECONDS)
        await connection.execute("SELECT pg_stat_clear_snapshot()")
        value = await connection.fetchval(
            "SELECT coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)), 0) "
            "FROM pg_stat_user_tables WHERE relname LIKE 'events%'"
        )
        return int(value)
    finally:
        await connection.close()


def _tree_rss(pid: int) -> int:
    process = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)] if p.is_running())


async def hold_streams(
    port: int, path: str, headers: dict[str, str], count: int
) -> list[asyncio.StreamWriter]:
    """`count` raw connections that have sent their request and read the response head."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        + "\r\n"
    ).encode()
    writers = []
    for start in range(0, count, 100):

        async def one() -> asyncio.StreamWriter:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise SystemExit(f"idle stream refused: {head[:60]!r}")
            return writer

        writers += await asyncio.gather(*(one() for _ in range(min(100, count - start))))
    return writers


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}"


def _verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


@dataclass
class Totals:
    first_after_metadata: list[float]
    warm_complete: list[float]
    scans_one: int | None = None
    extra_work: int = 0  # scenarios where N subscribers scanned events more than 1 did


async def scenario(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    db_url: str,
    subscribers: int,
    phase: str,
    totals: Totals,
) -> None:
    before = await events_scans(db_url)
    timings = await asyncio.gather(*(stream_once(client, url, headers) for _ in range(subscribers)))
    scans = await events_scans(db_url) - before
    done = sorted(t.complete for t in timings)
    after = [t.first_tile - t.metadata for t in timings if t.first_tile is not None]
    if phase == "cold":
        totals.first_after_metadata += after
        if subscribers == 1:
            totals.scans_one = scans
        elif totals.scans_one is not None and scans > totals.scans_one:
            totals.extra_work += 1
    elif subscribers == 1:
        totals.warm_complete += done
    cells = [
        _ms(statistics.median(t.metadata for t in timings)),
        _ms(statistics.median(t.first_tile or 0 for t in timings)),
        _ms(statistics.median(after) if after else None),
        _ms(statistics.median(done)),
        _ms(done[int(0.95 * (len(done) - 1))]),
    ]
    cached = min(t.cached for t in timings)
    print(f"{phase:<8}{subscribers:>5}" + "".join(f"{c:>13}" for c in cells) + f"{scans:>14}{cached:>8}")


async def idle_capacity(
    port: int, path: str, headers: dict[str, str], db_url: str, server_pid: int, count: int
) -> float:
    """KiB of server memory per open stream, every stream waiting on a tile blocked by a lock."""
    lock = await asyncpg.connect(db_url)
    transaction = lock.transaction()
    await transaction.start()
    await lock.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
    rss_before = _tree_rss(server_pid)
    writers = await hold_streams(port, path, headers, count)
    await asyncio.sleep(2)
    rss_after = _tree_rss(server_pid)
    await transaction.rollback()
    await lock.close()
    for writer in writers:
        writer.close()
    per_stream = (rss_after - rss_before) / max(count, 1) / 1024
    print(
        f"idle streams held open: {len(writers)}, server RSS {rss_before / 2**20:.0f} MiB -> "
        f"{rss_after / 2**20:.0f} MiB: {per_stream:.1f} KiB per stream"
    )
    return per_stream


async def build_dashboard(
    client: httpx.AsyncClient, base: str, headers: dict[str, str], name: str, queries: list[dict[str, Any]]
) -> int:
    board = (await client.post(f"{base}/dashboards/", json={"name": name}, headers=headers)).json()
    for n, query in enumerate(queries):
        body = {"name": f"{name} {n}", "query": query, "dashboards": [board["id"]]}
        (await client.post(f"{base}/insights/", json=body, headers=headers)).raise_for_status()
    return int(board["id"])


async def run(args: argparse.Namespace) -> int:
    db_url, _ = await demo_database(args.events)
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=db_url,
        REDIS_URL=args.redis,
        SITE_URL=f"http://127.0.0.1:{port}",
        LOG_LEVEL="warning",
        SSE_MAX_STREAMS=str(args.idle + 100),
        DB_POOL_SIZE="20",
        # Every stream here asks for refresh=blocking; the per-key analytics limit is not under test.
        RATE_LIMIT_PER_MINUTE="10000000",
        RATE_LIMIT_PER_HOUR="10000000",
    )
    redis = aioredis.from_url(args.redis)
    await redis.flushdb()
    command = [sys.executable, "-m", "app.cli", "serve", "--no-worker", "--port", str(port)]
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)  # noqa: ASYNC220
    totals = Totals([], [])
    try:
        await wait_healthy(f"http://127.0.0.1:{port}", within=180)
        bootstrap = [sys.executable, "-m", "app.cli", "bootstrap", "--json"]
        done = subprocess.run(bootstrap, env=env, cwd=ROOT, check=True, capture_output=True)  # noqa: ASYNC221
        creds = json.loads(done.stdout)
        headers = {"Authorization": f"Bearer {creds['personal_api_key']}"}
        base = f"/api/projects/{creds['project_id']}"
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=300, limits=limits
        ) as client:
            board = await build_dashboard(client, base, headers, "bench", _shapes(args.tiles))
            blocked = _shapes(1)[0]
            blocked["source"]["interval"] = "hour"  # a query no earlier scenario cached
            idle_board = await build_dashboard(client, base, headers, "idle", [blocked])
            url = f"{base}/dashboards/{board}/stream_tiles/?refresh=blocking"
            period = f"{DATE_RANGE['date_from']}..{DATE_RANGE['date_to']}"
            print(f"events={args.events:,} tiles={args.tiles} over {period}")
            columns = ["metadata ms", "1st tile ms", "after meta", "complete ms", "p95 done"]
            print(
                f"{'phase':<8}{'subs':>5}"
                + "".join(f"{c:>13}" for c in columns)
                + f"{'events scans':>14}{'cached':>8}"
            )
            for subscribers in args.subscribers:
                await redis.flushdb()
                await scenario(client, url, headers, db_url, subscribers, "cold", totals)
                await scenario(client, url, headers, db_url, subscribers, "warm", totals)
        await redis.flushdb()
        idle_path = f"{base}/dashboards/{idle_board}/stream_tiles/?refresh=blocking"
        per_stream = await idle_capacity(port, idle_path, headers, db_url, server.pid, args.idle)
    finally:
        server.terminate()
        server.wait(timeout=30)
        await redis.aclose()

    first = statistics.median(totals.first_after_metadata) * 1000 if totals.first_after_metadata else 0.0
    warm = statistics.median(totals.warm_complete) * 1000 if totals.warm_complete else 0.0
    verdict = _verdict(warm <= TARGET_WARM_MS)
    print(f"warm complete (1 subscriber) ≤ {TARGET_WARM_MS:.0f} ms: {verdict} ({warm:.0f} ms)")
    print(
        f"cold first tile ≤ {TARGET_FIRST_TILE_MS:.0f} ms after the metadata: "
        f"{_verdict(first <= TARGET_FIRST_TILE_MS)} ({first:.0f} ms)"
    )
    print(f"N subscribers no more events scans than 1: {_verdict(totals.extra_work == 0)}")
    print(
        f"idle stream < {TARGET_KIB_PER_STREAM:.0f} KiB: {_verdict(per_stream < TARGET_KIB_PER_STREAM)} "
        f"({per_stream:.1f} KiB)"
    )
    return 1 if totals.extra_work else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--tiles", type=int, default=20)
    parser.add_argument("--subscribers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 10, 50])
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
