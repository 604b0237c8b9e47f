"""Sharing links (and the public `/shared/:token` read), access controls, bulk tags."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories.identity import Team
from tests.factories.insights import add_member, create_insight

PREFIXES = ["/api/projects", "/api/environments"]


@pytest.mark.parametrize("prefix", PREFIXES)
class TestSharing:
    async def test_enable_share_then_revoke(self, client: httpx.AsyncClient, team: Team, prefix: str) -> None:
        created = await create_insight(client, team, prefix, name="Shared views", description="d")
        url = f"{prefix}/{team.id}/insights/{created['id']}/sharing/"
        initial = (await client.get(url, headers=team.headers)).json()
        assert set(initial) == {
            "created_at", "enabled", "access_token", "settings", "password_required", "share_passwords",
        }  # fmt: skip
        assert initial["enabled"] is False
        assert (await client.get(f"/shared/{initial['access_token']}")).status_code == 404

        enabled = (await client.patch(url, json={"enabled": True}, headers=team.headers)).json()
        token = enabled["access_token"]
        public = await client.get(f"/shared/{token}")  # no key at all
        assert public.status_code == 200
        shown = public.json()["insight"]
        assert (shown["id"], shown["name"], shown["description"]) == (created["id"], "Shared views", "d")
        assert set(shown).isdisjoint({"created_by", "tags", "last_modified_by"})

        disabled = (await client.patch(url, json={"enabled": False}, headers=team.headers)).json()
        assert disabled["enabled"] is False
        assert (await client.get(f"/shared/{token}")).status_code == 404
        again = (await client.patch(url, json={"enabled": True}, headers=team.headers)).json()
        assert again["access_token"] != token  # a revoked link stays dead
        assert (await client.get(f"/shared/{token}")).status_code == 404
        assert (await client.get(f"/shared/{again['access_token']}")).status_code == 200

        log = await client.get(f"{prefix}/{team.id}/insights/{created['id']}/activity/", headers=team.headers)
        activities = [e["activity"] for e in log.json()["results"]]
        assert activities[:3] == ["sharing enabled", "sharing disabled", "sharing enabled"]

    async def test_refresh_rotates_the_token(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        created = await create_insight(client, team, prefix)
        url = f"{prefix}/{team.id}/insights/{created['id']}/sharing/"
        old = (await client.patch(url, json={"enabled": True}, headers=team.headers)).json()["access_token"]
        new = (await client.post(url + "refresh/", headers=team.headers)).json()["access_token"]
        assert new != old
        assert (await client.get(f"/shared/{old}")).status_code == 404
        assert (await client.get(f"/shared/{new}")).status_code == 200

    async def test_shared_link_stops_when_the_insight_is_deleted(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        created = await create_insight(client, team, prefix)
        url = f"{prefix}/{team.id}/insights/{created['id']}/"
        token = (await client.patch(url + "sharing/", json={"enabled": True}, headers=team.headers)).json()[
            "access_token"
        ]
        await client.patch(url, json={"deleted": True}, headers=team.headers)
        assert (await client.get(f"/shared/{token}")).status_code == 404

    async def test_sharing_of_a_foreign_insight_is_404(
        self, client: httpx.AsyncClient, team: Team, other_team: Team, prefix: str
    ) -> None:
        theirs = await create_insight(client, other_team, prefix)
        response = await client.get(
            f"{prefix}/{team.id}/insights/{theirs['id']}/sharing/", headers=team.headers
        )
        assert response.status_code == 404


@pytest.mark.parametrize("prefix", PREFIXES)
class TestAccessControls:
    async def test_levels_hide_and_protect(
        self,
        client: httpx.AsyncClient,
        team: Team,
        sessionmaker: async_sessionmaker[AsyncSession],
        prefix: str,
    ) -> None:
        created = await create_insight(client, team, prefix, name="Secret")
        viewer_member, viewer_membership = await add_member(sessionmaker, team)
        hidden_member, hidden_membership = await add_member(sessionmaker, team)
        url = f"{prefix}/{team.id}/insights/{created['id']}/"
        for membership, level in ((viewer_membership, "viewer"), (hidden_membership, "none")):
            put = await client.put(
                url + "access_controls/",
                json={"access_level": level, "organization_member": membership},
                headers=team.headers,
            )
            assert put.status_code == 200, put.text
            assert (put.json()["access_level"], put.json()["organization_member"]) == (level, membership)

        described = (await client.get(url + "access_controls/", headers=team.headers)).json()
        assert described["user_access_level"] == "manager"
        assert described["available_access_levels"] == ["none", "viewer", "editor", "manager"]
        assert described["default_access_level"] == "editor"
        assert {(r["organization_member"], r["access_level"]) for r in described["access_controls"]} == {
            (viewer_membership, "viewer"), (hidden_membership, "none"),
        }  # fmt: skip

        as_viewer = await client.get(url, headers=viewer_member.headers)
        assert (as_viewer.status_code, as_viewer.json()["user_access_level"]) == (200, "viewer")
        edit = await client.patch(url, json={"name": "Mine now"}, headers=viewer_member.headers)
        assert edit.status_code == 403
        assert (await client.get(url, headers=hidden_member.headers)).status_code == 404
        hidden_list = (
            await client.get(f"{prefix}/{team.id}/insights/", headers=hidden_member.headers)
        ).json()
        assert hidden_list["count"] == 0
        change = await client.put(
            url + "access_controls/", json={"access_level": "editor"}, headers=viewer_member.headers
        )
        assert change.status_code == 403  # only managers change rules

        removed = await client.put(
            url + "access_controls/",
            json={"access_level": None, "organization_member": hidden_membership},
            headers=team.headers,
        )
        assert removed.status_code == 204
        assert (await client.get(url, headers=hidden_member.headers)).status_code == 200

    async def test_default_rule_applies_to_everyone_but_managers(
        self,
        client: httpx.AsyncClient,
        team: Team,
        sessionmaker: async_sessionmaker[AsyncSession],
        prefix: str,
    ) -> None:
        created = await create_insight(client, team, prefix)
        member, _ = await add_member(sessionmaker, team)
        admin, _ = await add_member(sessionmaker, team, level=8)
        url = f"{prefix}/{team.id}/insights/{created['id']}/"
        await client.put(url + "access_controls/", json={"access_level": "viewer"}, headers=team.headers)
        assert (await client.get(url, headers=member.headers)).json()["user_access_level"] == "viewer"
        assert (await client.get(url, headers=admin.headers)).json()["user_access_level"] == "manager"
        assert (await client.patch(url, json={"name": "n"}, headers=admin.headers)).status_code == 200

    async def test_bad_levels_and_members_are_400(
        self, client: httpx.AsyncClient, team: Team, other_team: Team, prefix: str
    ) -> None:
        created = await create_insight(client, team, prefix)
        url = f"{prefix}/{team.id}/insights/{created['id']}/access_controls/"
        bad_level = await client.put(url, json={"access_level": "owner"}, headers=team.headers)
        assert (bad_level.status_code, bad_level.json()["attr"]) == (400, "access_level")
        foreign = await client.put(
            url, json={"access_level": "viewer", "organization_member": 999999}, headers=team.headers
        )
        assert (foreign.status_code, foreign.json()["attr"]) == (400, "organization_member")

    async def test_global_access_controls_exist_for_projects_only(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        created = await create_insight(client, team, prefix)
        response = await client.get(
            f"{prefix}/{team.id}/insights/{created['id']}/global_access_controls/", headers=team.headers
        )
        assert response.status_code == 404
        assert response.json()["detail"] == "Global access controls are only available for projects."


@pytest.mark.parametrize("prefix", PREFIXES)
class TestBulkTags:
    async def test_add_remove_set(
        self, client: httpx.AsyncClient, team: Team, other_team: Team, prefix: str
    ) -> None:
        a = await create_insight(client, team, prefix, tags=["keep"])
        b = await create_insight(client, team, prefix)
        theirs = await create_insight(client, other_team, prefix)
        url = f"{prefix}/{team.id}/insights/bulk_update_tags/"
        added = await client.post(
            url, json={"ids": [a["id"], b["id"], theirs["id"]], "action": "add", "tags": ["New ", "zeta"]},
            headers=team.headers,
        )  # fmt: skip
        assert added.status_code == 200
        assert added.json() == {
            "updated": [
                {"id": a["id"], "tags": ["keep", "new", "zeta"]},
                {"id": b["id"], "tags": ["new", "zeta"]},
            ],
            "skipped": [{"id": theirs["id"], "reason": "Not found or no edit access"}],
        }
        removed = await client.post(
            url, json={"ids": [a["id"]], "action": "remove", "tags": ["keep"]}, headers=team.headers
        )
        assert removed.json()["updated"] == [{"id": a["id"], "tags": ["new", "zeta"]}]
        replaced = await client.post(
            url, json={"ids": [b["id"]], "action": "set", "tags": []}, headers=team.headers
        )
        assert replaced.json()["updated"] == [{"id": b["id"], "tags": []}]
        stored = (await client.get(f"{prefix}/{team.id}/insights/{a['id']}/", headers=team.headers)).json()
        assert stored["tags"] == ["new", "zeta"]
        other = await client.get(
            f"{prefix}/{other_team.id}/insights/{theirs['id']}/", headers=other_team.headers
        )
        assert other.json()["tags"] == []

    async def test_validation(self, client: httpx.AsyncClient, team: Team, prefix: str) -> None:
        url = f"{prefix}/{team.id}/insights/bulk_update_tags/"
        cases = [
            ({"ids": [], "action": "add", "tags": ["x"]}, "ids"),
            ({"ids": [1], "action": "add", "tags": []}, "tags"),
            ({"ids": [1], "action": "merge", "tags": ["x"]}, "action"),
            ({"ids": list(range(1, 502)), "action": "set", "tags": []}, "ids"),
        ]
        for payload, attr in cases:
            response = await client.post(url, json=payload, headers=team.headers)
            assert (response.status_code, response.json()["attr"]) == (400, attr), payload

    async def test_viewer_rule_skips_the_insight(
        self,
        client: httpx.AsyncClient,
        team: Team,
        sessionmaker: async_sessionmaker[AsyncSession],
        prefix: str,
    ) -> None:
        created = await create_insight(client, team, prefix)
        member, membership = await add_member(sessionmaker, team)
        await client.put(
            f"{prefix}/{team.id}/insights/{created['id']}/access_controls/",
            json={"access_level": "viewer", "organization_member": membership},
            headers=team.headers,
        )
        response = await client.post(
            f"{prefix}/{team.id}/insights/bulk_update_tags/",
            json={"ids": [created["id"]], "action": "add", "tags": ["x"]},
            headers=member.headers,
        )
        assert response.json() == {
            "updated": [],
            "skipped": [{"id": created["id"], "reason": "Not found or no edit access"}],
        }
