"""The capture endpoints over HTTP: every path and encoding, errors, nothing stored on rejection."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import uuid

import httpx
import pytest

from tests.factories.identity import Team
from tests.ingestion.conftest import Stored

PATHS = ["/batch", "/capture", "/e", "/i/v0/e", "/track"]


def events(n: int = 2, **extra: object) -> list[dict[str, object]]:
    return [
        {
            "event": f"event-{i}",
            "distinct_id": f"user-{i}",
            "uuid": str(uuid.uuid4()),
            "properties": {"i": i},
            **extra,
        }
        for i in range(n)
    ]


@pytest.mark.parametrize("path", [p + slash for p in PATHS for slash in ("", "/")])
async def test_every_path_stores_a_batch(
    client: httpx.AsyncClient, team: Team, stored: Stored, path: str
) -> None:
    sent = events(3)
    response = await client.post(path, json={"api_key": team.project.api_token, "batch": sent})
    assert response.status_code == 200
    assert response.json() == {"status": 1}
    rows = await stored.events(team.id)
    assert sorted(str(r["uuid"]) for r in rows) == sorted(str(e["uuid"]) for e in sent)


async def test_encodings(client: httpx.AsyncClient, team: Team, stored: Stored) -> None:
    token = team.project.api_token
    single = {"event": "single", "distinct_id": "d", "api_key": token}
    as_list = [{"event": "listed", "distinct_id": "d", "properties": {"token": token}}]
    gz = gzip.compress(
        json.dumps({"api_key": token, "batch": [{"event": "gzipped", "distinct_id": "d"}]}).encode()
    )
    b64 = base64.b64encode(json.dumps([{"event": "b64", "distinct_id": "d"}]).encode()).decode()
    form_data = base64.b64encode(
        json.dumps({"event": "form", "distinct_id": "d", "token": token}).encode()
    ).decode()
    get_data = base64.b64encode(
        json.dumps({"event": "got", "distinct_id": "d", "token": token}).encode()
    ).decode()
    responses = [
        await client.post("/capture/", json=single),
        await client.post("/e/", json=as_list),
        await client.post("/batch/", content=gz, headers={"Content-Encoding": "gzip"}),
        await client.post(
            f"/e/?compression=gzip-js&token={token}",
            content=gzip.compress(b'[{"event": "js", "distinct_id": "d"}]'),
            headers={"Content-Type": "text/plain"},
        ),
        await client.post(f"/e/?compression=base64&token={token}", content=b64),
        await client.post("/e/", data={"data": form_data}),
        await client.get("/e/", params={"data": get_data}),
    ]
    assert [r.status_code for r in responses] == [200] * len(responses), [r.text for r in responses]
    names = sorted(r["event"] for r in await stored.events(team.id))
    assert names == sorted(["single", "listed", "gzipped", "js", "b64", "form", "got"])


async def test_retry_of_the_same_events_is_stored_once(
    client: httpx.AsyncClient, team: Team, stored: Stored
) -> None:
    body = {"api_key": team.project.api_token, "batch": events(5)}
    for _ in range(3):
        assert (await client.post("/batch/", json=body)).status_code == 200
    assert await stored.count("events", team.id) == 5


async def test_a_batch_mixing_stored_and_new_events_stores_only_the_new_ones(
    client: httpx.AsyncClient, team: Team, stored: Stored
) -> None:
    sent, new = events(3), events(4)
    token = team.project.api_token
    assert (await client.post("/batch/", json={"api_key": token, "batch": sent})).status_code == 200
    both = [new[0], *sent, *new[1:]]  # stored ones in the middle: the COPY fails part-way
    assert (await client.post("/batch/", json={"api_key": token, "batch": both})).status_code == 200
    rows = await stored.events(team.id)
    assert sorted(str(r["uuid"]) for r in rows) == sorted(str(e["uuid"]) for e in sent + new)


async def test_same_uuid_twice_in_one_batch_is_stored_once(
    client: httpx.AsyncClient, team: Team, stored: Stored
) -> None:
    twice = events(1) * 2
    assert (
        await client.post("/batch/", json={"api_key": team.project.api_token, "batch": twice})
    ).status_code == 200
    assert await stored.count("events", team.id) == 1


async def test_missing_and_unknown_tokens(client: httpx.AsyncClient, team: Team, stored: Stored) -> None:
    missing = await client.post("/batch/", json={"batch": events()})
    assert missing.status_code == 401
    assert missing.json() == {
        "type": "authentication_error",
        "code": "missing_api_key",
        "detail": "API key not provided. You can find your project API key in PostHog project settings.",
        "attr": None,
    }
    unknown = await client.post("/batch/", json={"api_key": "phc_nope", "batch": events()})
    assert unknown.status_code == 401
    assert unknown.json()["code"] == "invalid_api_key"
    assert await stored.count("events", team.id) == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "parse_error"),
        (b'{"batch": 7, "api_key": "T"}', "invalid_payload"),
        (
            b'{"api_key": "T", "batch": [{"event": "ok", "distinct_id": "d"}, {"distinct_id": "no-name"}]}',
            "invalid_payload",
        ),
        (
            b'{"api_key": "T", "batch": [{"event": "ok", "distinct_id": "d"}, {"event": "no-id"}]}',
            "invalid_payload",
        ),
        (
            b'{"api_key": "T", "batch": [{"event": "ok", "distinct_id": "d", "uuid": "zzz"}]}',
            "invalid_payload",
        ),
    ],
)
async def test_malformed_bodies_store_nothing(
    client: httpx.AsyncClient, team: Team, stored: Stored, body: bytes, code: str
) -> None:
    response = await client.post(
        "/batch/", content=body.replace(b'"T"', f'"{team.project.api_token}"'.encode())
    )
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert set(response.json()) == {"type", "code", "detail", "attr"}
    assert await stored.count("events", team.id) == 0
    assert await stored.count("persons", team.id) == 0


async def test_oversized_bodies_store_nothing(
    client: httpx.AsyncClient, team: Team, stored: Stored, app: object
) -> None:
    limit = app.state.settings.max_request_bytes  # type: ignore[attr-defined]
    big = {
        "api_key": team.project.api_token,
        "batch": [{"event": "e", "distinct_id": "d", "properties": {"x": "y" * limit}}],
    }
    response = await client.post("/batch/", json=big)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    bomb = gzip.compress(json.dumps(big).encode() * 30)
    assert len(bomb) < limit
    response = await client.post("/batch/", content=bomb, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert await stored.count("events", team.id) == 0


async def test_nul_characters_are_stored_not_refused(
    client: httpx.AsyncClient, team: Team, stored: Stored
) -> None:
    body = {
        "api_key": team.project.api_token,
        "batch": [{"event": "nul\u0000", "distinct_id": "d", "properties": {"k\u0000": "v\u0000"}}],
    }
    assert (await client.post("/batch/", json=body)).status_code == 200
    (row,) = await stored.events(team.id)
    assert row["event"] == "nul\ufffd"
    assert row["properties"]["k\ufffd"] == "v\ufffd"


async def test_cors_preflight_and_headers(client: httpx.AsyncClient, team: Team) -> None:
    origin = "https://app.example"
    preflight = await client.options(
        "/e/",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "POST" in preflight.headers["access-control-allow-methods"]
    posted = await client.post(
        "/e/",
        json={"event": "e", "distinct_id": "d", "token": team.project.api_token},
        headers={"Origin": origin},
    )
    assert posted.headers["access-control-allow-origin"] == origin


async def test_events_of_a_token_go_to_its_project_only(
    client: httpx.AsyncClient, team: Team, other_team: Team, stored: Stored
) -> None:
    await client.post("/batch/", json={"api_key": other_team.project.api_token, "batch": events(4)})
    assert await stored.count("events", other_team.id) == 4
    assert await stored.count("events", team.id) == 0


async def test_concurrent_requests_are_each_stored_once_with_their_persons(
    client: httpx.AsyncClient, team: Team, stored: Stored
) -> None:
    """Requests arriving together are written in groups by writers taking turns (persons, then the
    events' COPY); an SDK's retry sent alongside its original, so in a group of its own or the same,
    adds nothing."""
    token = team.project.api_token
    bodies = [
        [
            {"event": "hit", "distinct_id": f"user-{(r * 7 + i) % 25}", "uuid": str(uuid.uuid4()),
             "properties": {"$set": {"round": r}}}
            for i in range(10)
        ]
        for r in range(24)
    ]  # fmt: skip
    sends = [client.post("/batch/", json={"api_key": token, "batch": body}) for body in [*bodies, bodies[0]]]
    responses = await asyncio.gather(*sends)
    assert [r.status_code for r in responses] == [200] * len(sends)
    rows = await stored.events(team.id)
    assert sorted(str(r["uuid"]) for r in rows) == sorted(e["uuid"] for body in bodies for e in body)
    persons = await stored.persons(team.id)
    assert set(persons) == {f"user-{n}" for n in range(25)}
    assert all(r["person_id"] == persons[r["distinct_id"]]["uuid"] for r in rows)
    assert await stored.count("persons", team.id) == 25
