"""Ingestion throughput: events/s through `POST /batch` over HTTP, and raw COPY of the same rows.

    uv run python bench/ingest.py --events 200000 --clients 8,16 --batch 100 --workers 2 --rounds 3

Starts the API (`analytics serve`, `--workers` processes) on a scratch database, sends the demo
dataset's events (~1 KB each, as posthog-python sends them: `{api_key, batch, sent_at}`,
pre-serialized) from `--clients` concurrent connections into empty tables, and checks every
acknowledged event is stored. Then, in the same round and the same database, it empties the table
and COPYs exactly the stored rows back (one connection, binary COPY, 10k rows a statement): the raw
write rate of Postgres here. Prints both and the ratio per round, and the median ratio: on this
2-core machine either rate moves by 10-20% from one minute to the next, so one round proves little.
The load generator is aiohttp, the cheapest well-kept client at hand: it shares the two cores with
the server (httpx took 14 µs of CPU per event, aiohttp 3).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import asyncpg
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.ingestion.demo import DemoDataset
from app.models.base import utcnow
from bench.common import DEMO_END, EVENT_COLUMNS, free_port, reset_database, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
JSON = {"Content-Type": "application/json"}


def bodies(token: str, events: int, batch: int) -> list[tuple[bytes, int]]:
    """Request bodies with how many events each carries."""
    flat = [e for day in DemoDataset(events=events, days=30, seed=7, end=DEMO_END).batches() for e in day]
    sent_at = utcnow().isoformat()
    chunks = [flat[i : i + batch] for i in range(0, len(flat), batch)]
    return [
        (orjson.dumps({"api_key": token, "batch": chunk, "sent_at": sent_at}), len(chunk)) for chunk in chunks
    ]


async def send_all(url: str, payloads: list[tuple[bytes, int]], clients: int) -> tuple[int, float]:
    queue: asyncio.Queue[tuple[bytes, int]] = asyncio.Queue()
    for payload in payloads:
        queue.put_nowait(payload)
    acknowledged = 0

    async def client(http: aiohttp.ClientSession) -> None:
        nonlocal acknowledged
        while not queue.empty():
            payload, events = queue.get_nowait()
            async with http.post(f"{url}/batch/", data=payload, headers=JSON) as response:
                if response.status != 200:
                    raise SystemExit(f"/batch answered {response.status}: {(await response.text())[:200]}")
                await response.read()
            acknowledged += events

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(60)) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return acknowledged, time.perf_counter() - started


async def copy_rate(database_url: str) -> tuple[int, float]:
    connection = await asyncpg.connect(database_url)
    try:
        columns = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
        rows = await connection.fetch(f"SELECT {columns} FROM events")
        records = [tuple(row) for row in rows]
        await connection.execute("TRUNCATE events")
        await connection.execute("CHECKPOINT")
        started = time.perf_counter()
        for at in range(0, len(records), 10_000):
            await connection.copy_records_to_table(
                "events", records=records[at : at + 10_000], columns=EVENT_COLUMNS
            )
        return len(records), time.perf_counter() - started
    finally:
        await connection.close()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument(
        "--clients", default="8,16", help="concurrent client connections; a comma list runs each"
    )
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    parser.add_argument("--rounds", type=int, default=3, help="HTTP-then-COPY rounds per client count")
    args = parser.parse_args()
    client_counts = [int(n) for n in args.clients.split(",")]

    database_url = await reset_database("bench_ingest")
    connection = await asyncpg.connect(database_url)
    await connection.execute(
        "INSERT INTO organizations (id, name) VALUES (gen_random_uuid(), 'bench');"
        "INSERT INTO projects (uuid, organization_id, name, api_token, timezone, test_account_filters, "
        "test_account_filters_default_checked, is_demo) "
        "SELECT gen_random_uuid(), id, 'bench', 'phc_bench', 'UTC', '[]', false, false FROM organizations"
    )
    await connection.close()
    payloads = bodies("phc_bench", args.events, args.batch)
    average = sum(len(p) for p, _ in payloads) / args.events

    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
        LOG_LEVEL="warning",
    )
    # `analytics serve`, as users run it: one SO_REUSEPORT socket per process. uvicorn's shared
    # `--workers` socket gave all 8 keep-alive connections to one process, leaving the other idle.
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", "serve", "--no-worker", "--port", str(port),
        "--workers", str(args.workers),
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    print(f"{args.events:,} demo events, {average:,.0f} bytes each on the wire, batches of {args.batch}, "
          f"{args.workers} API workers; a round sends them all, then COPYs the stored rows back")  # fmt: skip
    print(f"{'clients':>7} {'round':>6} {'HTTP events/s':>14} {'raw COPY events/s':>18} {'HTTP / COPY':>12}")
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_healthy(url)
        await send_all(url, payloads[: max(1, len(payloads) // 50)], client_counts[0])  # warm-up
        for clients in client_counts:
            rounds = [await one_round(url, database_url, payloads, clients, n) for n in range(args.rounds)]
            http, raw, ratio = (statistics.median(column) for column in zip(*rounds, strict=True))
            print(f"{clients:>7} {'median':>6} {http:>14,.0f} {raw:>18,.0f} {ratio:>12.2f}")
    finally:
        server.terminate()
        await server.wait()


async def one_round(
    url: str, database_url: str, payloads: list[tuple[bytes, int]], clients: int, n: int
) -> tuple[float, float, float]:
    """HTTP ingestion into empty tables, every acknowledged event checked stored, then raw COPY."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("TRUNCATE events, persons, person_distinct_ids, person_event_first_seen")
        await connection.execute("CHECKPOINT")
        acknowledged, http_seconds = await send_all(url, payloads, clients)
        stored = await connection.fetchval("SELECT count(*) FROM events")
    finally:
        await connection.close()
    if stored != acknowledged:
        raise SystemExit(f"acknowledged {acknowledged} events but {stored} are stored")
    copied, copy_seconds = await copy_rate(database_url)
    http_rate, raw_rate = acknowledged / http_seconds, copied / copy_seconds
    ratio = http_rate / raw_rate
    print(f"{clients:>7} {n + 1:>6} {http_rate:>14,.0f} {raw_rate:>18,.0f} {ratio:>12.2f}", flush=True)
    return http_rate, raw_rate, ratio


if __name__ == "__main__":
    asyncio.run(main())
