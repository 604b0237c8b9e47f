"""Insights API throughput: cached retrieve and list, against a direct-DB baseline in the same run.

    uv run python bench/api.py                         # 1,000 insights, 10 s per scenario
    uv run python bench/api.py --insights 20 --seconds 2 --concurrency 4   # a quick check

Starts its own `analytics serve --no-worker` on a scratch database (`bench_api`, Redis db 13 by
default), inserts the insights and a few thousand events, warms the result cache, then drives each
scenario with a small keep-alive HTTP/1.1 client (raw sockets: the load generator must cost far less
than the server, which shares the machine). The baseline does what the endpoint must do at minimum,
straight through asyncpg and Redis, with the same concurrency: for a retrieve the insight row and
its cached result, for a list one page of rows, the count and their cached results.

Target (issue 6): cached retrieve ≥ 1,500 req/s with p99 ≤ 50 ms on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import string
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import redis.asyncio as aioredis

from app.cli import DEFAULT_API_WORKERS

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ["$pageview", "signup", "purchase", "$autocapture", "invite"]
TARGET_RPS, TARGET_P99_MS = 1500, 50.0


@dataclass
class Figures:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000 if ordered else float("nan")


async def _drive(worker: Callable[[], Awaitable[bool]], concurrency: int, seconds: float) -> Figures:
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def loop() -> None:
        nonlocal errors
        while time.monotonic() < stop:
            started = time.perf_counter()
            ok = await worker()
            latencies.append(time.perf_counter() - started)
            errors += not ok

    started = time.monotonic()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return Figures(len(latencies), errors, time.monotonic() - started, latencies)


class KeepAlive:
    """One persistent HTTP/1.1 connection; responses read by Content-Length."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, request: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status


@dataclass
class ServerLoad:
    """What the server's processes did during one scenario: CPU per request, and how the client's
    connections were spread over the API processes (the kernel hands each to whichever accepts
    first; an uneven spread queues requests behind the busier process, which shows in the p99)."""

    cpu_us_per_request: float
    connections: list[int]


def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    return sum(sum(p.cpu_times()[:2]) for p in processes)


def _connections(processes: list[psutil.Process], port: int) -> list[int]:
    def established(process: psutil.Process) -> int:
        return sum(
            1
            for c in process.net_connections("tcp")
            if c.laddr and c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED
        )

    counts = (established(p) for p in processes)
    return sorted((n for n in counts if n), reverse=True)


async def observed_load(
    server_pid: int, port: int, path: str, headers: dict[str, str], concurrency: int, seconds: float
) -> tuple[Figures, ServerLoad]:
    processes = _tree(server_pid)
    before = _cpu_seconds(processes)
    load = asyncio.ensure_future(http_load(port, path, headers, concurrency, seconds))
    await asyncio.sleep(min(1.0, seconds / 2))
    spread = _connections(processes, port)
    figures = await load
    cpu = (_cpu_seconds(processes) - before) / max(figures.requests, 1) * 1e6
    return figures, ServerLoad(cpu, spread)


async def http_load(
    port: int, path: str, headers: dict[str, str], concurrency: int, seconds: float
) -> Figures:
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    connections = [KeepAlive("127.0.0.1", port) for _ in range(concurrency)]
    free = list(connections)

    async def one() -> bool:
        connection = free.pop()
        try:
            return await connection.get(request) == 200
        finally:
            free.append(connection)

    return await _drive(one, concurrency, seconds)


def _short_id() -> str:
    return "".join(random.choices(string.ascii_letters + string.digits, k=8))


def _query(event: str) -> dict[str, Any]:
    return {
        "kind": "InsightVizNode",
        "source": {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": event}]},
    }


async def seed(db_url: str, team_id: int, user_id: int, insights: int, events: int) -> list[int]:
    connection = await asyncpg.connect(db_url)
    try:
        await connection.set_type_codec(
            "jsonb",
            encoder=lambda value: b"\x01" + json.dumps(value).encode(),
            decoder=lambda data: json.loads(data[1:]),
            schema="pg_catalog",
            format="binary",
        )
        rows = [
            (
                team_id,
                _short_id(),
                f"Insight {n}",
                _query(EVENTS[n % len(EVENTS)]),
                user_id,
                user_id,
            )
            for n in range(insights)
        ]
        await connection.executemany(
            "INSERT INTO insights (team_id, short_id, name, query, saved, created_by_id, "
            "last_modified_by_id) VALUES ($1, $2, $3, $4, true, $5, $6)",
            rows,
        )
        now = datetime.now(UTC)
        await connection.copy_records_to_table(
            "events",
            columns=["uuid", "team_id", "event", "distinct_id", "timestamp", "properties"],
            records=[
                (
                    uuid.uuid4(),
                    team_id,
                    random.choice(EVENTS),
                    f"user-{random.randrange(300)}",
                    now - timedelta(seconds=random.randrange(6 * 86400)),
                    {"$browser": random.choice(["Chrome", "Safari", "Firefox"])},
                )
                for _ in range(events)
            ],
        )
        # Statistics, as any table that has lived a minute has them: a never-analyzed table left
        # Postgres choosing the (team_id, deleted) index for the retrieve's primary-key lookup,
        # filtering all the project's insights on every request (at 1,000: 208 us, not 67 us).
        await connection.execute("ANALYZE")
        return [
            r["id"]
            for r in await connection.fetch("SELECT id FROM insights WHERE team_id = $1 ORDER BY id", team_id)
        ]
    finally:
        await connection.close()


async def baseline(
    db_url: str,
    redis_url: str,
    team_id: int,
    insight_id: int,
    cache_keys: dict[int, str],
    concurrency: int,
    seconds: float,
) -> tuple[Figures, Figures]:
    """What an endpoint must do at minimum, without HTTP or a framework: rows and cached results."""
    pool = await asyncpg.create_pool(db_url, min_size=min(concurrency, 10), max_size=min(concurrency, 10))
    redis = aioredis.from_url(redis_url)
    try:

        async def retrieve() -> bool:
            row = await pool.fetchrow(
                "SELECT * FROM insights WHERE team_id = $1 AND id = $2 AND NOT deleted", team_id, insight_id
            )
            return row is not None and await redis.get(f"cache:{cache_keys[insight_id]}") is not None

        async def page() -> bool:
            async with pool.acquire() as connection:
                await connection.fetchval(
                    "SELECT count(*) FROM insights WHERE team_id = $1 AND NOT deleted", team_id
                )
                rows = await connection.fetch(
                    "SELECT * FROM insights WHERE team_id = $1 AND NOT deleted "
                    'ORDER BY "order", id LIMIT 100',
                    team_id,
                )
            cached = await redis.mget([f"cache:{cache_keys[r['id']]}" for r in rows])
            return all(v is not None for v in cached)

        return await _drive(retrieve, concurrency, seconds), await _drive(page, concurrency, seconds)
    finally:
        await pool.close()
        await redis.aclose()


async def _reset_database(admin_url: str, name: str) -> None:
    if not name.isidentifier():
        raise SystemExit(f"database name must be a plain identifier, got {name!r}")
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _row(name: str, api: Figures, base: Figures | None) -> str:
    ratio = f"{api.rps / base.rps:>8.2f}" if base and base.rps else f"{'':>8}"
    base_cells = f"{base.rps:>10.0f}{base.percentile(0.99):>10.1f}" if base else f"{'':>20}"
    return (
        f"{name:<34}{api.rps:>10.0f}{api.percentile(0.5):>9.1f}{api.percentile(0.99):>9.1f}"
        f"{api.errors:>7}{base_cells}{ratio}"
    )


async def run(args: argparse.Namespace) -> int:
    db_url = f"{args.postgres}/{args.database}"
    await _reset_database(f"{args.postgres}/postgres", args.database)
    await aioredis.from_url(args.redis).flushdb()
    port = _free_port()
    env = dict(
        os.environ,
        DATABASE_URL=db_url,
        REDIS_URL=args.redis,
        SITE_URL=f"http://127.0.0.1:{port}",
        LOG_LEVEL=args.log_level,
    )
    command = [sys.executable, "-m", "app.cli", "serve", "--no-worker", "--port", str(port)]
    if args.workers is not None:
        command += ["--workers", str(args.workers)]
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)  # noqa: ASYNC220
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            for _ in range(240):
                try:
                    if (await client.get("/_health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.5)
            creds = json.loads(
                subprocess.run(  # noqa: ASYNC221 - set-up, before any timing
                    [sys.executable, "-m", "app.cli", "bootstrap", "--json"],
                    env=env,
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                ).stdout
            )
            team_id = int(creds["project_id"])
            headers = {"Authorization": f"Bearer {creds['personal_api_key']}"}
            connection = await asyncpg.connect(db_url)
            user_id = await connection.fetchval("SELECT id FROM users ORDER BY id LIMIT 1")
            await connection.close()
            ids = await seed(db_url, team_id, user_id, args.insights, args.events)
            base = f"/api/projects/{team_id}/insights"
            for insight_id in ids[: len(EVENTS)]:  # one computation per distinct query
                await client.get(f"{base}/{insight_id}", params={"refresh": "blocking"}, headers=headers)
            listed = (await client.get(f"{base}/", params={"limit": 1000}, headers=headers)).json()["results"]
            cache_keys = {row["id"]: row["filters_hash"] for row in listed}
            target = ids[len(ids) // 2]
            check = (await client.get(f"{base}/{target}", headers=headers)).json()
            if not (check["is_cached"] and check["result"]):
                raise SystemExit("the warm-up left no cached result")

        scenarios = [
            ("GET /insights/:id (cached result)", f"{base}/{target}/"),
            (f"GET /insights/ (list, {len(ids)} insights)", f"{base}/"),
            ("GET /insights/?basic=true", f"{base}/?basic=true"),
        ]
        results = [
            (name, *await observed_load(server.pid, port, path, headers, args.concurrency, args.seconds))
            for name, path in scenarios
        ]
        base_retrieve, base_list = await baseline(
            db_url, args.redis, team_id, target, cache_keys, args.concurrency, args.seconds
        )
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(
        f"insights={len(ids)} events={args.events} concurrency={args.concurrency} "
        f"seconds={args.seconds} api_workers={args.workers or f'{DEFAULT_API_WORKERS} (serve default)'}"
    )
    print(
        f"{'scenario':<34}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>7}"
        f"{'db req/s':>10}{'db p99':>10}{'api/db':>8}"
    )
    baselines = [base_retrieve, base_list, None]
    for (name, figures, _), reference in zip(results, baselines, strict=True):
        print(_row(name, figures, reference))
    for name, _, server_load in results:
        print(
            f"{name:<34} server CPU {server_load.cpu_us_per_request:,.0f} us/request, "
            f"connections per API process {'/'.join(map(str, server_load.connections))}"
        )
    retrieve = results[0][1]
    met = retrieve.rps >= TARGET_RPS and retrieve.percentile(0.99) <= TARGET_P99_MS
    print(
        f"target cached retrieve ≥ {TARGET_RPS} req/s, p99 ≤ {TARGET_P99_MS:.0f} ms: "
        f"{'MET' if met else 'NOT MET'} ({retrieve.rps:.0f} req/s, p99 {retrieve.percentile(0.99):.1f} ms)"
    )
    return 1 if any(figures.errors for _, figures, _ in results) else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--insights", type=int, default=1000)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--workers", type=int, default=None, help="API processes (default: what `analytics serve` runs)"
    )
    parser.add_argument("--log-level", default="warning", help="server LOG_LEVEL (info logs every request)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="bench_api")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
