"""Insight CRUD under both URL prefixes: fields, lookup by id and short_id, update rules, soft delete."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.main import create_app
from app.settings import Settings
from tests.factories.identity import Team, create_key
from tests.factories.insights import create_dashboard, create_insight, trends

PREFIXES = ["/api/projects", "/api/environments"]
FULL_FIELDS = {
    "id", "short_id", "name", "derived_name", "filters", "query", "order", "deleted", "dashboards",
    "dashboard_tiles", "last_refresh", "cache_target_age", "next_allowed_client_refresh", "result", "hasMore",
    "columns", "created_at", "created_by", "description", "updated_at", "tags", "favorited", "saved",
    "last_modified_at", "last_modified_by", "is_sample", "effective_restriction_level",
    "effective_privilege_level", "user_access_level", "timezone", "is_cached", "query_status", "hogql",
    "types", "resolved_date_range", "alerts", "last_viewed_at", "filters_hash",
}  # fmt: skip
BASIC_FIELDS = {
    "id", "short_id", "name", "derived_name", "filters", "query", "dashboards", "dashboard_tiles",
    "description", "last_refresh", "refreshing", "saved", "tags", "updated_at", "created_by", "created_at",
    "last_modified_at", "favorited", "user_access_level", "last_viewed_at",
}  # fmt: skip


@pytest.mark.parametrize("prefix", PREFIXES)
class TestCreateAndRetrieve:
    async def test_create_returns_every_serializer_field(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        body = await create_insight(client, team, prefix, name="Views", description="All page views")
        assert set(body) == FULL_FIELDS
        assert re.fullmatch(r"[0-9A-Za-z]{8}", body["short_id"])
        assert (body["name"], body["description"], body["saved"], body["deleted"]) == (
            "Views", "All page views", False, False,
        )  # fmt: skip
        assert body["query"] == trends()
        assert body["filters"] == {}
        assert (body["result"], body["last_refresh"], body["is_cached"]) == (None, None, False)
        assert body["created_by"]["email"] == team.user.email
        assert body["last_modified_by"]["id"] == team.user.id
        assert body["derived_name"] == "Pageview count, last 7 days"
        assert (body["effective_restriction_level"], body["effective_privilege_level"]) == (21, 37)
        assert body["user_access_level"] == "manager"
        assert body["timezone"] == "UTC"
        assert body["created_at"].endswith("Z")
        assert body["last_viewed_at"] is not None  # the creator's view is recorded

    async def test_retrieve_by_id_and_by_short_id(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        created = await create_insight(client, team, prefix, name="A")
        by_id = await client.get(f"{prefix}/{team.id}/insights/{created['id']}/", headers=team.headers)
        by_short = await client.get(
            f"{prefix}/{team.id}/insights/{created['short_id']}", headers=team.headers
        )
        assert by_id.status_code == by_short.status_code == 200
        assert by_id.json()["id"] == by_short.json()["id"] == created["id"]

    async def test_unknown_and_foreign_ids_are_404(
        self, client: httpx.AsyncClient, team: Team, other_team: Team, prefix: str
    ) -> None:
        theirs = await create_insight(client, other_team, prefix)
        for ref in (theirs["id"], theirs["short_id"], 999999, "nothere1", "99999999999999"):
            response = await client.get(f"{prefix}/{team.id}/insights/{ref}/", headers=team.headers)
            assert response.status_code == 404, ref
            assert response.json() == {
                "type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None,
            }  # fmt: skip
        patched = await client.patch(
            f"{prefix}/{team.id}/insights/{theirs['id']}/", json={"name": "x"}, headers=team.headers
        )
        assert patched.status_code == 404

    async def test_tags_are_normalized_and_deduplicated(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        body = await create_insight(client, team, prefix, tags=[" Growth", "growth", "KPI ", ""])
        assert body["tags"] == ["growth", "kpi"]

    async def test_invalid_query_is_400_naming_the_field(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        bad = {"kind": "InsightVizNode", "source": {"kind": "TrendsQuery", "series": [{"kind": "Nope"}]}}
        response = await client.post(
            f"{prefix}/{team.id}/insights/", json={"query": bad}, headers=team.headers
        )
        assert response.status_code == 400
        assert response.json()["type"] == "validation_error"
        assert response.json()["attr"].startswith("query__series")  # fields inside the query node
        unknown = await client.post(
            f"{prefix}/{team.id}/insights/", json={"query": {"kind": "Bogus"}}, headers=team.headers
        )
        assert (unknown.status_code, unknown.json()["attr"]) == (400, "query__kind")

    async def test_read_only_fields_in_the_body_are_ignored(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        body = await create_insight(
            client, team, prefix, last_refresh="2020-01-01T00:00:00Z", short_id="hijacked", is_sample=True
        )
        assert (body["last_refresh"], body["is_sample"]) == (None, False)
        assert body["short_id"] != "hijacked"

    async def test_delete_is_a_bare_405(self, client: httpx.AsyncClient, team: Team, prefix: str) -> None:
        created = await create_insight(client, team, prefix)
        response = await client.delete(f"{prefix}/{team.id}/insights/{created['id']}/", headers=team.headers)
        assert (response.status_code, response.content) == (405, b"")
        still = await client.get(f"{prefix}/{team.id}/insights/{created['id']}/", headers=team.headers)
        assert still.status_code == 200


@pytest.mark.parametrize("prefix", PREFIXES)
class TestUpdate:
    async def test_non_material_change_moves_updated_at_only(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        created = await create_insight(client, team, prefix, name="A")
        url = f"{prefix}/{team.id}/insights/{created['id']}/"
        favorited = (await client.patch(url, json={"favorited": True}, headers=team.headers)).json()
        assert favorited["favorited"] is True
        assert favorited["updated_at"] > created["updated_at"]
        assert favorited["last_modified_at"] == created["last_modified_at"]
        renamed = (await client.patch(url, json={"name": "B"}, headers=team.headers)).json()
        assert renamed["last_modified_at"] > created["last_modified_at"]

    async def test_update_saves_unless_told_otherwise(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        created = await create_insight(client, team, prefix)
        url = f"{prefix}/{team.id}/insights/{created['id']}/"
        assert (await client.patch(url, json={"name": "x"}, headers=team.headers)).json()["saved"] is True
        assert (await client.patch(url, json={"saved": False}, headers=team.headers)).json()["saved"] is False

    async def test_last_modified_by_is_the_editor(
        self,
        client: httpx.AsyncClient,
        team: Team,
        sessionmaker: async_sessionmaker[AsyncSession],
        prefix: str,
    ) -> None:
        from tests.factories.insights import add_member

        created = await create_insight(client, team, prefix)
        colleague, _ = await add_member(sessionmaker, team)
        url = f"{prefix}/{team.id}/insights/{created['id']}/"
        edited = (await client.patch(url, json={"description": "d"}, headers=colleague.headers)).json()
        assert edited["last_modified_by"]["id"] == colleague.user.id
        assert edited["created_by"]["id"] == team.user.id

    async def test_query_change_rederives_the_name(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        created = await create_insight(client, team, prefix)
        url = f"{prefix}/{team.id}/insights/{created['id']}/"
        query = trends(
            "signed_up", breakdownFilter={"breakdown": "$browser"}, dateRange={"date_from": "-30d"}
        )
        updated = (await client.patch(url, json={"query": query}, headers=team.headers)).json()
        assert updated["derived_name"] == "Signed up count by browser, last 30 days"
        assert updated["query"] == query

    async def test_soft_delete_hides_then_restore_brings_back(
        self,
        client: httpx.AsyncClient,
        team: Team,
        sessionmaker: async_sessionmaker[AsyncSession],
        prefix: str,
    ) -> None:
        board = await create_dashboard(sessionmaker, team)
        created = await create_insight(client, team, prefix, dashboards=[board.id])
        url = f"{prefix}/{team.id}/insights/{created['id']}/"
        deleted = await client.patch(url, json={"deleted": True}, headers=team.headers)
        assert (deleted.status_code, deleted.json()["deleted"], deleted.json()["dashboards"]) == (
            200,
            True,
            [],
        )
        assert (await client.get(url, headers=team.headers)).status_code == 404
        listed = (await client.get(f"{prefix}/{team.id}/insights/", headers=team.headers)).json()
        assert listed["count"] == 0
        assert (await client.patch(url, json={"name": "x"}, headers=team.headers)).status_code == 404
        restored = await client.patch(url, json={"deleted": False}, headers=team.headers)
        assert (restored.status_code, restored.json()["deleted"]) == (200, False)
        assert (await client.get(url, headers=team.headers)).status_code == 200

    async def test_dashboards_replaces_the_tile_set(
        self,
        client: httpx.AsyncClient,
        team: Team,
        sessionmaker: async_sessionmaker[AsyncSession],
        prefix: str,
    ) -> None:
        one, two, three = [await create_dashboard(sessionmaker, team) for _ in range(3)]
        created = await create_insight(client, team, prefix, dashboards=[one.id, two.id])
        assert created["dashboards"] == sorted([one.id, two.id])
        first_tiles = {t["dashboard_id"]: t["id"] for t in created["dashboard_tiles"]}
        url = f"{prefix}/{team.id}/insights/{created['id']}/"
        moved = (
            await client.patch(url, json={"dashboards": [two.id, three.id]}, headers=team.headers)
        ).json()
        assert moved["dashboards"] == sorted([two.id, three.id])
        back = (await client.patch(url, json={"dashboards": [one.id]}, headers=team.headers)).json()
        assert back["dashboards"] == [one.id]
        # Re-adding revives the soft-deleted tile instead of creating another.
        assert back["dashboard_tiles"] == [
            {"id": first_tiles[one.id], "dashboard_id": one.id, "deleted": False}
        ]

    async def test_dashboard_of_another_project_is_rejected(
        self,
        client: httpx.AsyncClient,
        team: Team,
        other_team: Team,
        sessionmaker: async_sessionmaker[AsyncSession],
        prefix: str,
    ) -> None:
        theirs = await create_dashboard(sessionmaker, other_team)
        response = await client.post(
            f"{prefix}/{team.id}/insights/",
            json={"query": trends(), "dashboards": [theirs.id]},
            headers=team.headers,
        )
        assert (response.status_code, response.json()["attr"]) == (400, "dashboards")

    async def test_restricted_dashboard_needs_edit_rights(
        self,
        client: httpx.AsyncClient,
        team: Team,
        sessionmaker: async_sessionmaker[AsyncSession],
        prefix: str,
    ) -> None:
        from tests.factories.insights import add_member

        locked = await create_dashboard(sessionmaker, team, restriction_level=37)
        colleague, _ = await add_member(sessionmaker, team)
        response = await client.post(
            f"{prefix}/{team.id}/insights/", json={"query": trends(), "dashboards": [locked.id]},
            headers=colleague.headers,
        )  # fmt: skip
        assert response.status_code == 403
        assert (
            response.json()["detail"]
            == f"You don't have permission to add insights to dashboard: {locked.id}"
        )
        mine = await create_insight(client, team, prefix, dashboards=[locked.id])
        assert (mine["effective_restriction_level"], mine["effective_privilege_level"]) == (37, 37)
        seen = await client.get(f"{prefix}/{team.id}/insights/{mine['id']}/", headers=colleague.headers)
        assert seen.json()["effective_privilege_level"] == 21
        edit = await client.patch(
            f"{prefix}/{team.id}/insights/{mine['id']}/", json={"name": "x"}, headers=colleague.headers
        )
        assert edit.status_code == 403


class TestScopes:
    @pytest.mark.parametrize(
        ("scopes", "method", "path", "wanted"),
        [
            (["dashboard:read"], "GET", "insights/", "insight:read"),
            (["insight:read"], "POST", "insights/", "insight:write"),
            (["insight:read"], "PATCH", "insights/{id}/", "insight:write"),
            (["dashboard:write"], "GET", "insights/{id}/", "insight:read"),
        ],
    )
    async def test_missing_scope_is_403(
        self,
        client: httpx.AsyncClient,
        team: Team,
        sessionmaker: async_sessionmaker[AsyncSession],
        scopes: list[str],
        method: str,
        path: str,
        wanted: str,
    ) -> None:
        created = await create_insight(client, team)
        async with sessionmaker() as session:
            _, raw = await create_key(session, team.user, scopes=scopes)
            await session.commit()
        response = await client.request(
            method,
            f"/api/projects/{team.id}/" + path.format(id=created["id"]),
            json={"name": "x"},
            headers={"Authorization": f"Bearer {raw}"},
        )
        assert response.status_code == 403
        assert response.json()["detail"] == f"API key missing required scope '{wanted}'"

    async def test_write_scope_implies_read(
        self, client: httpx.AsyncClient, team: Team, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async with sessionmaker() as session:
            _, raw = await create_key(session, team.user, scopes=["insight:write"])
            await session.commit()
        response = await client.get(
            f"/api/projects/{team.id}/insights/", headers={"Authorization": f"Bearer {raw}"}
        )
        assert response.status_code == 200

    async def test_foreign_project_is_403(
        self, client: httpx.AsyncClient, team: Team, other_team: Team
    ) -> None:
        response = await client.get(f"/api/projects/{other_team.id}/insights/", headers=team.headers)
        assert response.status_code == 403
        assert response.json()["detail"] == "You don't have access to the project."


async def test_basic_list_has_exactly_the_basic_fields(client: httpx.AsyncClient, team: Team) -> None:
    await create_insight(client, team, name="A")
    body = (await client.get(f"/api/projects/{team.id}/insights/?basic=true", headers=team.headers)).json()
    assert set(body["results"][0]) == BASIC_FIELDS


async def test_list_pagination_links(client: httpx.AsyncClient, team: Team) -> None:
    created = [await create_insight(client, team, name=f"i{n}") for n in range(3)]
    first = (await client.get(f"/api/projects/{team.id}/insights/?limit=2", headers=team.headers)).json()
    assert first["count"] == 3
    assert [r["id"] for r in first["results"]] == [c["id"] for c in created[:2]]
    assert first["next"] == f"http://testserver/api/projects/{team.id}/insights/?limit=2&offset=2"
    second = (await client.get(first["next"], headers=team.headers)).json()
    assert [r["id"] for r in second["results"]] == [created[2]["id"]]
    assert second["previous"] == f"http://testserver/api/projects/{team.id}/insights/?limit=2"


async def test_action_names_reach_routers_mounted_after_the_id_route(test_settings: Settings) -> None:
    """The legacy `/insights/funnel/` router lands later and may be mounted last: it is still reached."""
    application = create_app(test_settings)
    legacy = APIRouter(prefix="/api/projects/{project_id}/insights")

    @legacy.get("/{action}")
    async def action(action: str) -> dict[str, str]:
        return {"reached": action}

    application.include_router(legacy)
    transport = httpx.ASGITransport(app=application)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
    ):
        for name in ("trend", "trending", "timing", "retention"):  # funnel: engine2 mounts it first
            response = await http.get(f"/api/projects/1/insights/{name}/")
            assert response.json() == {"reached": name}
        assert (await http.get("/api/projects/1/insights/abc12345/")).status_code == 401  # the id route
