"""Every served route, enumerated from the app itself: none answers without a key, none crosses projects.

Enumerating routes (instead of listing them) means a new router is covered the day it is mounted.
"""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from tests.factories.identity import Team

# Routes that are public by contract: health, capture (project token instead of a key), sharing tokens.
PUBLIC_PREFIXES = ("/_health", "/batch", "/capture", "/e", "/i/v0/e", "/track", "/shared", "/decide")
PROJECT_PREFIXES = ("/api/projects/{project_id}", "/api/environments/{environment_id}")
PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    # The served OpenAPI document lists every operation (routers nest, so app.routes does not).
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method.upper() not in ("HEAD", "OPTIONS")
    ]


def _is_public(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in PUBLIC_PREFIXES)


def _fill(path: str, project_id: int) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(project_id) if name in ("project_id", "environment_id") else "1"

    return PARAM.sub(value, path)


async def test_route_enumeration_sees_project_and_global_routes(app: FastAPI) -> None:
    paths = {path for _, path in _routes(app)}
    assert any(p.startswith(PROJECT_PREFIXES[0]) for p in paths)
    assert any(p.startswith(PROJECT_PREFIXES[1]) for p in paths)
    assert "/api/projects" in paths


async def test_no_route_answers_without_a_key(app: FastAPI, client: httpx.AsyncClient, team: Team) -> None:
    answered = []
    for method, path in _routes(app):
        if _is_public(path):
            continue
        response = await client.request(method, _fill(path, team.id), json={})
        if response.status_code != 401:
            answered.append((method, path, response.status_code))
        else:
            assert response.json()["type"] == "authentication_error"
    assert answered == []


async def test_no_project_route_serves_another_project(
    app: FastAPI, client: httpx.AsyncClient, team: Team, other_team: Team
) -> None:
    """A key used on a project it has no access to gets 403 on every route, whatever the method."""
    leaked = []
    for method, path in _routes(app):
        if not path.startswith(PROJECT_PREFIXES):
            continue
        response = await client.request(method, _fill(path, other_team.id), json={}, headers=team.headers)
        if response.status_code != 403:
            leaked.append((method, path, response.status_code))
    assert leaked == []
