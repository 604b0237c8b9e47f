"""Dashboards CRUD under both URL prefixes: fields, list order and filters, updates, soft delete, copies."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories.identity import Team
from tests.factories.insights import add_member, create_insight, new_dashboard

PREFIXES = ["/api/projects", "/api/environments"]
BASIC_FIELDS = {
    "id", "name", "description", "pinned", "created_at", "created_by", "last_accessed_at",
    "last_viewed_at", "is_shared", "deleted", "creation_mode", "filters", "variables", "breakdown_colors",
    "data_color_theme_id", "tags", "restriction_level", "effective_restriction_level",
    "effective_privilege_level", "user_access_level", "access_control_version", "last_refresh",
    "persisted_filters", "persisted_variables", "team_id", "quick_filter_ids", "tiles",
}  # fmt: skip


@pytest.mark.parametrize("prefix", PREFIXES)
class TestCreateRetrieve:
    async def test_create_defaults(self, client: httpx.AsyncClient, team: Team, prefix: str) -> None:
        body = await new_dashboard(client, team, prefix, name="My new dashboard", description="")
        assert set(body) == BASIC_FIELDS
        assert (body["name"], body["description"], body["tags"], body["creation_mode"]) == (
            "My new dashboard", "", [], "default",
        )  # fmt: skip
        assert (body["restriction_level"], body["effective_privilege_level"], body["tiles"]) == (21, 37, [])
        assert (body["user_access_level"], body["access_control_version"], body["team_id"]) == (
            "manager",
            "v2",
            team.id,
        )
        assert body["created_by"]["id"] == team.user.id

    async def test_retrieve_updates_access_and_view_times(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        created = await new_dashboard(client, team, prefix)
        assert created["last_accessed_at"] is None
        url = f"{prefix}/{team.id}/dashboards/{created['id']}/"
        first = (await client.get(url, headers=team.headers)).json()
        assert first["last_accessed_at"] is not None
        assert first["last_viewed_at"] is not None
        second = (await client.get(url, headers=team.headers)).json()
        assert second["last_accessed_at"] > first["last_accessed_at"]

    async def test_filters_must_be_an_object(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        response = await client.post(
            f"{prefix}/{team.id}/dashboards/", json={"name": "x", "filters": [1]}, headers=team.headers
        )
        assert (response.status_code, response.json()["detail"], response.json()["attr"]) == (
            400, "Filters must be a dictionary", "filters",
        )  # fmt: skip

    async def test_foreign_and_unknown_are_404(
        self, client: httpx.AsyncClient, team: Team, other_team: Team, prefix: str
    ) -> None:
        theirs = await new_dashboard(client, other_team, prefix)
        for ref in (theirs["id"], 99999999, 9999999999, "12345678901"):
            response = await client.get(f"{prefix}/{team.id}/dashboards/{ref}/", headers=team.headers)
            assert response.status_code == 404, ref
        patched = await client.patch(
            f"{prefix}/{team.id}/dashboards/{theirs['id']}/", json={"name": "x"}, headers=team.headers
        )
        assert patched.status_code == 404

    async def test_delete_is_a_bare_405(self, client: httpx.AsyncClient, team: Team, prefix: str) -> None:
        created = await new_dashboard(client, team, prefix)
        response = await client.delete(
            f"{prefix}/{team.id}/dashboards/{created['id']}/", headers=team.headers
        )
        assert (response.status_code, response.content) == (405, b"")


@pytest.mark.parametrize("prefix", PREFIXES)
class TestList:
    async def test_pinned_first_then_name_and_no_tiles(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        b = await new_dashboard(client, team, prefix, name="b dashboard")
        a = await new_dashboard(client, team, prefix, name="a dashboard")
        pinned = await new_dashboard(client, team, prefix, name="z pinned", pinned=True)
        body = (await client.get(f"{prefix}/{team.id}/dashboards/", headers=team.headers)).json()
        assert [d["id"] for d in body["results"]] == [pinned["id"], a["id"], b["id"]]
        assert all(d["tiles"] is None for d in body["results"])
        assert body["count"] == 3

    async def test_search_tags_and_unlisted(self, client: httpx.AsyncClient, team: Team, prefix: str) -> None:
        growth = await new_dashboard(client, team, prefix, name="Growth", tags=["KPI"])
        await new_dashboard(client, team, prefix, name="Ops")
        unlisted = await client.post(
            f"{prefix}/{team.id}/dashboards/create_unlisted_dashboard/", json={"tag": "llm-analytics"},
            headers=team.headers,
        )  # fmt: skip
        url = f"{prefix}/{team.id}/dashboards/"
        assert [
            d["id"] for d in (await client.get(url + "?search=grow", headers=team.headers)).json()["results"]
        ] == [growth["id"]]
        for tags in ("kpi", '["KPI", "other"]', "other,kpi"):
            listed = (await client.get(url, params={"tags": tags}, headers=team.headers)).json()["results"]
            assert [d["id"] for d in listed] == [growth["id"]], tags
        default = [d["id"] for d in (await client.get(url, headers=team.headers)).json()["results"]]
        assert unlisted.json()["id"] not in default
        only_unlisted = (await client.get(url + "?creation_mode=unlisted", headers=team.headers)).json()[
            "results"
        ]
        assert [d["id"] for d in only_unlisted] == [unlisted.json()["id"]]

    async def test_foreign_dashboards_never_listed(
        self, client: httpx.AsyncClient, team: Team, other_team: Team, prefix: str
    ) -> None:
        await new_dashboard(client, other_team, prefix)
        assert (await client.get(f"{prefix}/{team.id}/dashboards/", headers=team.headers)).json()[
            "count"
        ] == 0


@pytest.mark.parametrize("prefix", PREFIXES)
class TestUpdate:
    async def test_fields_and_read_only_creation_mode(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        created = await new_dashboard(client, team, prefix, use_template="DEFAULT_APP")
        assert created["creation_mode"] == "template"
        url = f"{prefix}/{team.id}/dashboards/{created['id']}/"
        body = {"name": "Renamed", "pinned": True, "tags": [" A", "a", "b"], "creation_mode": "duplicate",
                "filters": {"date_from": "-14d"}, "description": "d"}  # fmt: skip
        updated = (await client.patch(url, json=body, headers=team.headers)).json()
        assert (updated["name"], updated["pinned"], updated["tags"], updated["description"]) == (
            "Renamed",
            True,
            ["a", "b"],
            "d",
        )
        assert updated["creation_mode"] == "template"
        assert updated["filters"] == updated["persisted_filters"] == {"date_from": "-14d"}
        log = (await client.get(f"{prefix}/{team.id}/insights/activity/", headers=team.headers)).json()
        assert log["total_count"] >= 1  # the template's insights were created and logged

    async def test_filters_override_changes_filters_only(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        created = await new_dashboard(client, team, prefix, filters={"date_from": "-7d"})
        url = f"{prefix}/{team.id}/dashboards/{created['id']}/?filters_override=" + '{"date_from":"-30d"}'
        body = (await client.get(url, headers=team.headers)).json()
        assert body["filters"] == {"date_from": "-30d"}
        assert body["persisted_filters"] == {"date_from": "-7d"}

    async def test_restriction_level_only_by_owner(
        self,
        client: httpx.AsyncClient,
        team: Team,
        sessionmaker: async_sessionmaker[AsyncSession],
        prefix: str,
    ) -> None:
        created = await new_dashboard(client, team, prefix)
        colleague, _ = await add_member(sessionmaker, team)
        url = f"{prefix}/{team.id}/dashboards/{created['id']}/"
        denied = await client.patch(url, json={"restriction_level": 37}, headers=colleague.headers)
        assert denied.status_code == 403
        locked = (await client.patch(url, json={"restriction_level": 37}, headers=team.headers)).json()
        assert (locked["restriction_level"], locked["access_control_version"]) == (37, "v1")
        as_colleague = (await client.get(url, headers=colleague.headers)).json()
        assert as_colleague["effective_privilege_level"] == 21
        assert (await client.patch(url, json={"name": "x"}, headers=colleague.headers)).status_code == 403

    async def test_soft_delete_and_restore(self, client: httpx.AsyncClient, team: Team, prefix: str) -> None:
        board = await new_dashboard(client, team, prefix)
        other = await new_dashboard(client, team, prefix)
        only_here = await create_insight(client, team, prefix, dashboards=[board["id"]])
        on_both = await create_insight(client, team, prefix, dashboards=[board["id"], other["id"]])
        url = f"{prefix}/{team.id}/dashboards/{board['id']}/"
        deleted = await client.patch(
            url, json={"deleted": True, "delete_insights": True}, headers=team.headers
        )
        assert (deleted.status_code, deleted.json()["deleted"]) == (200, True)
        assert (await client.get(url, headers=team.headers)).status_code == 404
        insights_url = f"{prefix}/{team.id}/insights/"
        assert (
            await client.get(insights_url + f"{only_here['id']}/", headers=team.headers)
        ).status_code == 404
        survivor = (await client.get(insights_url + f"{on_both['id']}/", headers=team.headers)).json()
        assert survivor["dashboards"] == [other["id"]]
        restored = await client.patch(url, json={"deleted": False}, headers=team.headers)
        assert (restored.status_code, restored.json()["deleted"]) == (200, False)
        listed = (await client.get(f"{prefix}/{team.id}/dashboards/", headers=team.headers)).json()
        assert board["id"] in [d["id"] for d in listed["results"]]

    async def test_soft_delete_keeps_insights_by_default(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        board = await new_dashboard(client, team, prefix)
        insight = await create_insight(client, team, prefix, dashboards=[board["id"]])
        await client.patch(
            f"{prefix}/{team.id}/dashboards/{board['id']}/", json={"deleted": True}, headers=team.headers
        )
        kept = await client.get(f"{prefix}/{team.id}/insights/{insight['id']}/", headers=team.headers)
        assert (kept.status_code, kept.json()["dashboards"]) == (200, [])


@pytest.mark.parametrize("prefix", PREFIXES)
class TestDuplicate:
    async def test_shallow_and_deep(self, client: httpx.AsyncClient, team: Team, prefix: str) -> None:
        source = await new_dashboard(client, team, prefix, name="Source")
        insight = await create_insight(client, team, prefix, name="Views", dashboards=[source["id"]])
        unnamed = await create_insight(client, team, prefix, dashboards=[source["id"]])
        shallow = await new_dashboard(client, team, prefix, use_dashboard=source["id"])
        assert shallow["creation_mode"] == "duplicate"
        assert sorted(t["insight"]["id"] for t in shallow["tiles"]) == sorted([insight["id"], unnamed["id"]])
        deep = await new_dashboard(client, team, prefix, use_dashboard=source["id"], duplicate_tiles=True)
        copies = {t["insight"]["id"]: t["insight"]["name"] for t in deep["tiles"]}
        assert not set(copies) & {insight["id"], unnamed["id"]}
        assert sorted(copies.values(), key=str) == sorted(["Views (Copy)", None], key=str)

    async def test_bad_duplicate_requests(
        self, client: httpx.AsyncClient, team: Team, other_team: Team, prefix: str
    ) -> None:
        theirs = await new_dashboard(client, other_team, prefix)
        url = f"{prefix}/{team.id}/dashboards/"
        foreign = await client.post(url, json={"use_dashboard": theirs["id"]}, headers=team.headers)
        assert (foreign.status_code, foreign.json()["attr"]) == (400, "use_dashboard")
        both = await client.post(
            url, json={"use_template": "DEFAULT_APP", "use_dashboard": ""}, headers=team.headers
        )
        assert (both.status_code, both.json()["attr"]) == (400, "use_dashboard")
        unknown = await client.post(url, json={"use_template": "NOPE"}, headers=team.headers)
        assert (unknown.status_code, unknown.json()["attr"]) == (400, "use_template")
