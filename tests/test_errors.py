"""Every error is PostHog's `{type, code, detail, attr}`: 400, 404, 405, 413, 503."""

from __future__ import annotations

import httpx

from app.main import create_app
from app.settings import Settings
from tests.factories.identity import Team


async def test_unknown_route_is_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {
        "type": "invalid_request",
        "code": "not_found",
        "detail": "Not found.",
        "attr": None,
    }


async def test_wrong_method_is_json_405(client: httpx.AsyncClient, team: Team) -> None:
    response = await client.delete(f"/api/projects/{team.id}/", headers=team.headers)
    assert response.status_code == 405
    assert response.json() == {
        "type": "invalid_request",
        "code": "method_not_allowed",
        "detail": 'Method "DELETE" not allowed.',
        "attr": None,
    }


async def test_405_allow_names_the_literal_route_not_the_id_route(
    client: httpx.AsyncClient, team: Team
) -> None:
    # `/insights/funnel` also matches `/insights/{id}`; its Allow must be the funnel endpoint's.
    for path in ("insights/funnel", "insights/funnel/", "insights/42"):
        response = await client.options(f"/api/projects/{team.id}/{path}", headers=team.headers)
        assert response.status_code == 405
        expected = "GET, POST, HEAD" if "funnel" in path else "DELETE, GET, PATCH, PUT, HEAD"
        assert response.headers["allow"] == expected


async def test_malformed_json_is_parse_error(client: httpx.AsyncClient, team: Team) -> None:
    response = await client.patch(
        f"/api/projects/{team.id}/",
        headers={**team.headers, "Content-Type": "application/json"},
        content=b'{"name": ',
    )
    assert response.status_code == 400
    assert response.json()["type"] == "invalid_request"
    assert response.json()["code"] == "parse_error"


async def test_validation_error_names_the_field(client: httpx.AsyncClient, team: Team) -> None:
    response = await client.get("/api/projects/", headers=team.headers, params={"limit": "many"})
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert response.json()["attr"] == "limit"


async def test_oversized_body_is_413(client: httpx.AsyncClient, team: Team, app) -> None:
    limit = app.state.settings.max_request_bytes
    response = await client.patch(
        f"/api/projects/{team.id}/", headers=team.headers, content=b"x" * (limit + 1)
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_unreachable_redis_gives_503_health_naming_it(test_settings: Settings) -> None:
    broken = test_settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    app = create_app(broken)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get("/_health")
    assert response.status_code == 503
    body = response.json()
    assert body["postgres"] == "ok"
    assert body["redis"].startswith("error")


async def test_health_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/_health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "postgres": "ok", "redis": "ok"}


async def test_nul_characters_are_a_400_and_change_nothing(client: httpx.AsyncClient, team: Team) -> None:
    before = (await client.get(f"/api/projects/{team.id}/", headers=team.headers)).json()
    response = await client.patch(
        f"/api/projects/{team.id}/",
        headers={**team.headers, "Content-Type": "application/json"},
        content=b'{"name": "ok", "test_account_filters": [{"key": "\\u0000"}]}',
    )
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert (await client.get(f"/api/projects/{team.id}/", headers=team.headers)).json() == before


async def test_integers_beyond_64_bits_round_trip(client: httpx.AsyncClient, team: Team) -> None:
    huge = 2**70
    response = await client.patch(
        f"/api/projects/{team.id}/", headers=team.headers, json={"test_account_filters": [{"value": huge}]}
    )
    assert response.status_code == 200
    assert response.json()["test_account_filters"] == [{"value": huge}]
