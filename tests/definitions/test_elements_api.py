"""`/elements/` CRUD under both URL prefixes, scopes and cross-project isolation."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories.identity import Team, create_team

PREFIXES = ["/api/projects", "/api/environments"]
FIELDS = {
    "id",
    "text",
    "tag_name",
    "attr_class",
    "href",
    "attr_id",
    "nth_child",
    "nth_of_type",
    "attributes",
    "order",
}
BUTTON = {
    "text": "Sign up",
    "tag_name": "button",
    "attr_class": ["btn", "primary"],
    "href": "/signup",
    "attr_id": "cta",
    "nth_child": 2,
    "nth_of_type": 1,
    "attributes": {"attr__data-attr": "signup"},
    "order": 0,
}


@pytest.mark.parametrize("prefix", PREFIXES)
class TestElementCrud:
    async def test_create_retrieve_update_delete(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        base = f"{prefix}/{team.id}/elements"
        created = await client.post(f"{base}/", json=BUTTON, headers=team.headers)
        assert created.status_code == 201, created.text
        body = created.json()
        assert set(body) == FIELDS
        assert {k: body[k] for k in BUTTON} == BUTTON
        fetched = await client.get(f"{base}/{body['id']}/", headers=team.headers)
        assert fetched.json() == body

        patched = await client.patch(
            f"{base}/{body['id']}/", json={"text": "Join", "attr_class": []}, headers=team.headers
        )
        assert patched.status_code == 200
        assert (patched.json()["text"], patched.json()["attr_class"], patched.json()["href"]) == (
            "Join", None, "/signup",
        )  # fmt: skip
        deleted = await client.delete(f"{base}/{body['id']}/", headers=team.headers)
        assert deleted.status_code == 204
        assert (await client.get(f"{base}/{body['id']}/", headers=team.headers)).status_code == 404

    async def test_minimal_element_has_nulls_and_empty_attributes(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        created = await client.post(
            f"{prefix}/{team.id}/elements/", json={"tag_name": "a"}, headers=team.headers
        )
        body = created.json()
        assert body["attributes"] == {}
        assert (body["text"], body["attr_class"], body["nth_child"], body["order"]) == (
            None,
            None,
            None,
            None,
        )

    async def test_list_is_paged_in_creation_order(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        for n in range(5):
            await client.post(f"{prefix}/{team.id}/elements/", json={"text": f"e{n}"}, headers=team.headers)
        first = await client.get(f"{prefix}/{team.id}/elements/?limit=2", headers=team.headers)
        body = first.json()
        assert body["count"] == 5
        assert [e["text"] for e in body["results"]] == ["e0", "e1"]
        assert body["next"] == f"http://testserver{prefix}/{team.id}/elements/?limit=2&offset=2"
        last = await client.get(f"{prefix}/{team.id}/elements/?limit=2&offset=4", headers=team.headers)
        assert [e["text"] for e in last.json()["results"]] == ["e4"]
        assert last.json()["next"] is None

    async def test_bad_bodies_are_400(self, client: httpx.AsyncClient, team: Team, prefix: str) -> None:
        base = f"{prefix}/{team.id}/elements/"
        for bad, attr in (
            ({"nth_child": "x"}, "nth_child"),
            ({"attr_class": "btn"}, "attr_class"),
            ({"attributes": {"attr__x": 1}}, "attributes"),
            ({"order": 2**40}, "order"),
        ):
            response = await client.post(base, json=bad, headers=team.headers)
            assert response.status_code == 400, bad
            assert response.json()["type"] == "validation_error"
            assert response.json()["attr"].startswith(attr), response.json()

    async def test_other_projects_elements_are_404_and_invisible(
        self, client: httpx.AsyncClient, team: Team, other_team: Team, prefix: str
    ) -> None:
        theirs = (
            await client.post(f"{prefix}/{other_team.id}/elements/", json=BUTTON, headers=other_team.headers)
        ).json()
        base = f"{prefix}/{team.id}/elements"
        for method in ("GET", "PATCH", "PUT", "DELETE"):
            response = await client.request(method, f"{base}/{theirs['id']}/", json={}, headers=team.headers)
            assert response.status_code == 404, method
        assert (await client.get(f"{base}/", headers=team.headers)).json()["count"] == 0
        assert (await client.get(f"{base}/{2**40}/", headers=team.headers)).status_code == 404
        # Their project through our key: 403.
        foreign = await client.get(f"{prefix}/{other_team.id}/elements/", headers=team.headers)
        assert foreign.status_code == 403
        assert foreign.json()["detail"] == "You don't have access to the project."


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_scopes(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], prefix: str
) -> None:
    reader = await create_team(sessionmaker, scopes=["element:read"])
    other = await create_team(sessionmaker, scopes=["insight:read"])
    base = f"{prefix}/{reader.id}/elements"
    assert (await client.get(f"{base}/", headers=reader.headers)).status_code == 200
    assert (await client.get(f"{base}/stats/", headers=reader.headers)).status_code == 200
    assert (await client.get(f"{base}/values/?key=text", headers=reader.headers)).status_code == 200
    denied = await client.post(f"{base}/", json={"text": "x"}, headers=reader.headers)
    assert denied.status_code == 403
    assert denied.json() == {
        "type": "authentication_error",
        "code": "permission_denied",
        "detail": "API key missing required scope 'element:write'",
        "attr": None,
    }
    for path in ("/", "/stats/", "/values/?key=text", "/1/"):
        response = await client.get(f"{prefix}/{other.id}/elements{path}", headers=other.headers)
        assert response.status_code == 403, path
        assert response.json()["detail"] == "API key missing required scope 'element:read'"
