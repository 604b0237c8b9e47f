"""Postgres and Redis restarted under a running API: clear 503s during the outage, recovery by itself."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

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
