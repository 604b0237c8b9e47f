"""Soak: a steady mixed workload against a live `analytics serve` (API + worker) for N minutes.

    uv run python bench/soak.py --minutes 10

Starts its own server on a scratch database (`bench_soak`, Redis db 12 by default), then runs at a
fixed rate: capture batches, insight reads in every refresh mode, async /query with polling,
dashboard streams and insight CRUD. Every 10 s it samples the server's memory (RSS of the whole
process tree), Postgres connections and Redis clients. It fails (exit 1) on any 5xx, on growth of
memory or connections beyond the bounds after warm-up, or if an acknowledged event is missing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import redis.asyncio as aioredis

ROOT = Path(__file__).resolve().parent.parent
REFRESH_MODES = ["force_cache", "blocking", "async", "lazy_async", "force_blocking"]
MEMORY_GROWTH_BOUND = 1.5  # end RSS / RSS after warm-up
CONNECTION_BOUND = 60  # Postgres connections of the service, whatever the load


@dataclass
class Tally:
    requests: Counter[str] = field(default_factory=Counter)
    server_errors: Counter[str] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    acknowledged_events: int = 0
    samples: list[dict[str, float]] = field(default_factory=list)

    def record(self, name: str, response: httpx.Response, seconds: float) -> None:
        self.requests[name] += 1
        self.latencies.setdefault(name, []).append(seconds)
        if response.status_code >= 500:
            self.server_errors[f"{name} {response.status_code}"] += 1


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _reset_database(admin_url: str, name: str) -> None:
    if not name.isidentifier():
        raise SystemExit(f"database name must be a plain identifier, got {name!r}")
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def _bootstrap(env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "bootstrap", "--json"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def _event(distinct_id: str) -> dict[str, Any]:
    return {
        "event": random.choice(["$pageview", "signup", "purchase", "$autocapture"]),
        "distinct_id": distinct_id,
        "uuid": str(uuid.uuid4()),
        "properties": {"$browser": random.choice(["Chrome", "Safari", "Firefox"]), "$current_url": "/home"},
    }


async def capture_loop(client: httpx.AsyncClient, token: str, tally: Tally, stop: float) -> None:
    while time.monotonic() < stop:
        batch = [_event(f"user-{random.randrange(500)}") for _ in range(50)]
        started = time.monotonic()
        response = await client.post("/batch", json={"api_key": token, "batch": batch})
        tally.record("capture", response, time.monotonic() - started)
        if response.status_code == 200:
            tally.acknowledged_events += len(batch)
        await asyncio.sleep(0.2)


async def insight_reads(
    client: httpx.AsyncClient, base: str, ids: list[int], tally: Tally, stop: float
) -> None:
    while time.monotonic() < stop:
        mode = random.choice(REFRESH_MODES)
        started = time.monotonic()
        response = await client.get(f"{base}/insights/{random.choice(ids)}", params={"refresh": mode})
        tally.record(f"insight {mode}", response, time.monotonic() - started)
        await asyncio.sleep(0.1)


async def async_queries(client: httpx.AsyncClient, base: str, tally: Tally, stop: float) -> None:
    while time.monotonic() < stop:
        query = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "signup"}]}
        started = time.monotonic()
        response = await client.post(f"{base}/query", json={"query": query, "refresh": "force_async"})
        tally.record("query async", response, time.monotonic() - started)
        status = response.json().get("query_status") if response.status_code < 500 else None
        while status and not status.get("complete") and time.monotonic() < stop:
            await asyncio.sleep(0.25)
            poll = await client.get(f"{base}/query/{status['id']}")
            tally.record("query poll", poll, 0.0)
            status = poll.json().get("query_status") if poll.status_code < 500 else None
        await asyncio.sleep(0.5)


async def dashboard_streams(
    client: httpx.AsyncClient, base: str, dashboard_id: int, tally: Tally, stop: float
) -> None:
    while time.monotonic() < stop:
        started = time.monotonic()
        async with client.stream("GET", f"{base}/dashboards/{dashboard_id}/stream_tiles") as response:
            async for line in response.aiter_lines():
                if '"type": "complete"' in line or '"type":"complete"' in line:
                    break
        tally.record("stream_tiles", response, time.monotonic() - started)
        await asyncio.sleep(1.0)


async def crud_loop(client: httpx.AsyncClient, base: str, tally: Tally, stop: float) -> None:
    while time.monotonic() < stop:
        started = time.monotonic()
        created = await client.post(f"{base}/insights", json={"name": "soak", "query": _trends_query()})
        tally.record("insight create", created, time.monotonic() - started)
        if created.status_code == 201:
            insight_id = created.json()["id"]
            patched = await client.patch(f"{base}/insights/{insight_id}", json={"name": "soak 2"})
            tally.record("insight patch", patched, 0.0)
            deleted = await client.patch(f"{base}/insights/{insight_id}", json={"deleted": True})
            tally.record("insight soft delete", deleted, 0.0)
        await asyncio.sleep(1.0)


def _trends_query() -> dict[str, Any]:
    return {
        "kind": "InsightVizNode",
        "source": {
            "kind": "TrendsQuery",
            "series": [{"kind": "EventsNode", "event": "$pageview", "math": random.choice(["total", "dau"])}],
            "breakdownFilter": {"breakdown": "$browser", "breakdown_type": "event"},
        },
    }


def _tree_rss(pid: int) -> float:
    process = psutil.Process(pid)
    processes = [process, *process.children(recursive=True)]
    return sum(p.memory_info().rss for p in processes if p.is_running()) / 2**20


async def monitor(pid: int, db_url: str, db_name: str, redis_url: str, tally: Tally, stop: float) -> None:
    redis = aioredis.from_url(redis_url)
    connection = await asyncpg.connect(db_url)
    try:
        while time.monotonic() < stop:
            pg = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                db_name,
            )
            clients = (await redis.info("clients"))["connected_clients"]
            tally.samples.append(
                {"t": time.monotonic(), "rss_mb": _tree_rss(pid), "pg": pg, "redis": clients}
            )
            await asyncio.sleep(10)
    finally:
        await connection.close()
        await redis.aclose()


async def setup_objects(client: httpx.AsyncClient, base: str) -> tuple[list[int], int]:
    dashboard = (await client.post(f"{base}/dashboards", json={"name": "soak"})).json()
    ids = []
    for _ in range(6):
        body = {"name": "soak read", "query": _trends_query(), "dashboards": [dashboard["id"]]}
        response = await client.post(f"{base}/insights", json=body)
        response.raise_for_status()
        ids.append(response.json()["id"])
    return ids, int(dashboard["id"])


async def soak(args: argparse.Namespace) -> int:
    db_url = f"{args.postgres}/{args.database}"
    await _reset_database(f"{args.postgres}/postgres", args.database)
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=db_url, REDIS_URL=args.redis, SITE_URL=f"http://127.0.0.1:{port}")
    await aioredis.from_url(args.redis).flushdb()
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, cwd=ROOT)  # noqa: ASYNC220 - once, before the load
    tally = Tally()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as probe:
            for _ in range(120):
                try:
                    if (await probe.get("/_health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.5)
        creds = _bootstrap(env)
        headers = {"Authorization": f"Bearer {creds['personal_api_key']}"}
        base = f"/api/projects/{creds['project_id']}"
        limits = httpx.Limits(max_connections=20)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=120, limits=limits
        ) as client:
            insight_ids, dashboard_id = await setup_objects(client, base)
            stop = time.monotonic() + args.minutes * 60
            await asyncio.gather(
                capture_loop(client, creds["project_api_token"], tally, stop),
                capture_loop(client, creds["project_api_token"], tally, stop),
                insight_reads(client, base, insight_ids, tally, stop),
                async_queries(client, base, tally, stop),
                dashboard_streams(client, base, dashboard_id, tally, stop),
                crud_loop(client, base, tally, stop),
                monitor(server.pid, db_url, args.database, args.redis, tally, stop),
            )
        connection = await asyncpg.connect(db_url)
        stored = await connection.fetchval("SELECT count(*) FROM events")
        await connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return report(tally, stored)


def report(tally: Tally, stored: int) -> int:
    print(f"{'endpoint':<26}{'requests':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, count in sorted(tally.requests.items()):
        latencies = sorted(tally.latencies[name])
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        print(f"{name:<26}{count:>10}{p50:>10.1f}{p99:>10.1f}")
    warm = [s for s in tally.samples if s["t"] >= tally.samples[0]["t"] + 60] or tally.samples
    rss_start, rss_end = warm[0]["rss_mb"], tally.samples[-1]["rss_mb"]
    max_pg = max(s["pg"] for s in tally.samples)
    print(f"server RSS after warm-up {rss_start:.0f} MB -> end {rss_end:.0f} MB (x{rss_end / rss_start:.2f})")
    max_redis = max(s["redis"] for s in tally.samples)
    print(f"max Postgres connections {max_pg:.0f}, max Redis clients {max_redis:.0f}")
    print(f"5xx responses: {sum(tally.server_errors.values())} {dict(tally.server_errors)}")
    print(f"events acknowledged {tally.acknowledged_events}, stored {stored}")
    failures = [
        bool(tally.server_errors),
        rss_end / rss_start > MEMORY_GROWTH_BOUND,
        max_pg > CONNECTION_BOUND,
        stored != tally.acknowledged_events,
    ]
    print("SOAK " + ("FAILED" if any(failures) else "PASSED"))
    return 1 if any(failures) else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="bench_soak")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    sys.exit(asyncio.run(soak(parser.parse_args())))


if __name__ == "__main__":
    main()
