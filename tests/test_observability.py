"""`/metrics` exposes per-route latency; every response carries a request id that the logs carry too."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest

from app.observability import json_log_handler, request_id_var
from tests.factories.identity import Team


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient, team: Team) -> None:
    await client.get(f"/api/projects/{team.id}/", headers=team.headers)
    body = (await client.get("/metrics")).text
    assert 'route="/api/projects/{project_id}"' in body
    assert "http_request_duration_seconds_bucket" in body
    assert "worker_queue_depth" in body


async def test_request_id_is_echoed_and_logged(
    client: httpx.AsyncClient, team: Team, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="analytics.access"):
        response = await client.get("/_health", headers={"X-Request-ID": "req-abc"})
    assert response.headers["x-request-id"] == "req-abc"
    generated = await client.get("/_health")
    assert len(generated.headers["x-request-id"]) == 32
    records = [
        r for r in caplog.records if r.name == "analytics.access" and getattr(r, "path", "") == "/_health"
    ]
    assert any(r.request_id == "req-abc" and r.status == 200 for r in records)


def test_log_lines_are_json_with_request_id() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("analytics.test")
    handler = json_log_handler(stream)
    logger.addHandler(handler)
    token = request_id_var.set("rid-1")
    try:
        logger.warning("hello %s", "world")
    finally:
        request_id_var.reset(token)
        logger.removeHandler(handler)
    record = json.loads(stream.getvalue().splitlines()[-1])
    assert record["message"] == "hello world"
    assert record["request_id"] == "rid-1"
    assert record["level"] == "WARNING"
