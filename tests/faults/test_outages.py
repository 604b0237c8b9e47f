"""Postgres and Redis restarted under a running API: clear 503s during the outage, recovery by itself."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.conftest import free_port
from tests.faults.servers import DisposableStack

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DisposableStack]:
    stack = DisposableStack(Path(tmp_path_factory.mktemp("faults")), free_port())
    try:
        stack.cli("migrate")
        stack.bootstrap = json.loads(stack.cli("bootstrap", "--json"))
        stack.start_api()
        yield stack
    finally:
        stack.close()


def _headers(stack: DisposableStack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.bootstrap['personal_api_key']}"}


def _wait_for(check: Callable[[], bool], timeout: float = 30) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.25)
    raise AssertionError("condition not reached")


def _capture(stack: DisposableStack, events: int) -> tuple[int, list[str]]:
    """One /batch of new events: its status and the uuids it carried."""
    uuids = [str(uuid.uuid4()) for _ in range(events)]
    body = {
        "api_key": stack.bootstrap["project_api_token"],
        "batch": [{"event": "outage", "distinct_id": "d", "uuid": u} for u in uuids],
    }
    return httpx.post(f"{stack.url}/batch/", json=body, timeout=15).status_code, uuids


def _stored(stack: DisposableStack, uuids: list[str]) -> int:
    async def count() -> int:
        connection = await asyncpg.connect(stack.servers.database_url)
        try:
            return int(
                await connection.fetchval("SELECT count(*) FROM events WHERE uuid = ANY($1::uuid[])", uuids)
            )
        finally:
            await connection.close()

    return asyncio.run(count())


def test_capture_through_a_postgres_restart_loses_no_acknowledged_event(stack: DisposableStack) -> None:
    acknowledged: list[str] = []
    status, uuids = _capture(stack, 50)
    assert status == 200
    acknowledged += uuids
    stack.stop_postgres()
    try:
        status, refused = _capture(stack, 50)
        assert status == 503  # not acknowledged: the SDK keeps the batch and retries it
    finally:
        stack.start_postgres()

    def recovered() -> bool:
        status, uuids = _capture(stack, 50)
        if status == 200:
            acknowledged.extend(uuids)
        return status == 200

    _wait_for(recovered)
    assert _stored(stack, acknowledged) == len(acknowledged)
    assert _stored(stack, refused) == 0


def test_postgres_restart(stack: DisposableStack) -> None:
    project_url = f"{stack.url}/api/projects/@current/"
    assert httpx.get(project_url, headers=_headers(stack)).status_code == 200
    stack.stop_postgres()
    try:
        during = httpx.get(project_url, headers=_headers(stack), timeout=15)
        assert during.status_code == 503
        assert during.json()["code"] == "service_unavailable"
        assert int(during.headers["retry-after"]) > 0
        health = httpx.get(f"{stack.url}/_health", timeout=15)
        assert health.status_code == 503
        assert health.json()["postgres"].startswith("error")
        assert health.json()["redis"] == "ok"
    finally:
        stack.start_postgres()
    recovered_in = _wait_for(lambda: httpx.get(project_url, headers=_headers(stack)).status_code == 200)
    assert recovered_in < 30
    assert httpx.get(f"{stack.url}/_health").status_code == 200


def test_redis_restart(stack: DisposableStack) -> None:
    stack.stop_valkey()
    try:
        health = httpx.get(f"{stack.url}/_health", timeout=15)
        assert health.status_code == 503
        assert health.json()["redis"].startswith("error")
        # Endpoints that don't need Redis keep working through a Redis outage.
        assert httpx.get(f"{stack.url}/api/projects/@current/", headers=_headers(stack)).status_code == 200
    finally:
        stack.start_valkey()
    _wait_for(lambda: httpx.get(f"{stack.url}/_health").status_code == 200)
