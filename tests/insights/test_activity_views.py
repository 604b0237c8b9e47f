"""Activity log entries with field diffs; views and my_last_viewed."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories.identity import Team, create_key
from tests.factories.insights import add_member, create_dashboard, create_insight

PREFIXES = ["/api/projects", "/api/environments"]


@pytest.mark.parametrize("prefix", PREFIXES)
class TestActivity:
    async def test_lifecycle_of_one_insight(self, client: httpx.AsyncClient, team: Team, prefix: str) -> None:
        created = await create_insight(client, team, prefix, name="Views")
        url = f"{prefix}/{team.id}/insights/{created['id']}/"
        await client.patch(url, json={"name": "Page views", "tags": ["kpi"]}, headers=team.headers)
        await client.patch(url, json={"deleted": True}, headers=team.headers)
        await client.patch(url, json={"deleted": False}, headers=team.headers)
        log = (await client.get(url + "activity/", headers=team.headers)).json()
        assert log["total_count"] == 4
        assert [e["activity"] for e in log["results"]] == ["restored", "deleted", "updated", "created"]
        created_entry = log["results"][-1]
        assert created_entry["detail"]["changes"] is None
        assert (created_entry["scope"], created_entry["item_id"]) == ("Insight", str(created["id"]))
        assert created_entry["user"] == {"first_name": team.user.first_name, "email": team.user.email}
        updated = log["results"][2]["detail"]
        assert updated["name"] == "Page views"
        assert updated["short_id"] == created["short_id"]
        changes = {c["field"]: (c["before"], c["after"]) for c in updated["changes"]}
        # The update also saved the insight (PostHog: an update that does not say otherwise saves).
        assert changes == {"name": ("Views", "Page views"), "tags": ([], ["kpi"]), "saved": (False, True)}
        deleted = log["results"][1]["detail"]["changes"]
        assert {
            "type": "Insight",
            "action": "deleted",
            "field": "deleted",
            "before": False,
            "after": True,
        } in deleted

    async def test_unchanged_update_writes_no_entry(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        created = await create_insight(client, team, prefix, name="Same", saved=True)
        url = f"{prefix}/{team.id}/insights/{created['id']}/"
        await client.patch(url, json={"name": "Same"}, headers=team.headers)
        log = (await client.get(url + "activity/", headers=team.headers)).json()
        assert [e["activity"] for e in log["results"]] == ["created"]

    async def test_dashboards_change_is_logged(
        self,
        client: httpx.AsyncClient,
        team: Team,
        sessionmaker: async_sessionmaker[AsyncSession],
        prefix: str,
    ) -> None:
        board = await create_dashboard(sessionmaker, team)
        created = await create_insight(client, team, prefix, name="x")
        url = f"{prefix}/{team.id}/insights/{created['id']}/"
        await client.patch(url, json={"dashboards": [board.id]}, headers=team.headers)
        entry = (await client.get(url + "activity/", headers=team.headers)).json()["results"][0]
        assert {
            "type": "Insight",
            "action": "changed",
            "field": "dashboards",
            "before": [],
            "after": [board.id],
        } in (entry["detail"]["changes"])

    async def test_all_activity_is_paged_and_project_scoped(
        self, client: httpx.AsyncClient, team: Team, other_team: Team, prefix: str
    ) -> None:
        for n in range(3):
            await create_insight(client, team, prefix, name=f"i{n}")
        await create_insight(client, other_team, prefix, name="theirs")
        url = f"{prefix}/{team.id}/insights/activity/"
        first = (await client.get(url + "?limit=2", headers=team.headers)).json()
        assert (first["total_count"], len(first["results"]), first["previous"]) == (3, 2, None)
        assert [e["detail"]["name"] for e in first["results"]] == ["i2", "i1"]
        second = (await client.get(first["next"], headers=team.headers)).json()
        assert [e["detail"]["name"] for e in second["results"]] == ["i0"]
        assert second["next"] is None
        assert second["previous"] is not None

    async def test_unnamed_insight_creation_is_not_logged(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        await create_insight(client, team, prefix, query=None)
        log = (await client.get(f"{prefix}/{team.id}/insights/activity/", headers=team.headers)).json()
        assert log["total_count"] == 0

    async def test_activity_needs_its_scope(
        self,
        client: httpx.AsyncClient,
        team: Team,
        sessionmaker: async_sessionmaker[AsyncSession],
        prefix: str,
    ) -> None:
        async with sessionmaker() as session:
            _, raw = await create_key(session, team.user, scopes=["insight:read"])
            await session.commit()
        response = await client.get(
            f"{prefix}/{team.id}/insights/activity/", headers={"Authorization": f"Bearer {raw}"}
        )
        assert response.status_code == 403
        assert response.json()["detail"] == "API key missing required scope 'activity_log:read'"


@pytest.mark.parametrize("prefix", PREFIXES)
class TestViews:
    async def test_my_last_viewed_is_five_newest_first(
        self,
        client: httpx.AsyncClient,
        team: Team,
        sessionmaker: async_sessionmaker[AsyncSession],
        prefix: str,
    ) -> None:
        colleague, _ = await add_member(sessionmaker, team)
        created = [await create_insight(client, colleague, prefix, name=f"i{n}") for n in range(7)]
        for insight in created:
            response = await client.post(
                f"{prefix}/{team.id}/insights/{insight['id']}/viewed/", headers=team.headers
            )
            assert response.status_code == 201
        body = (await client.get(f"{prefix}/{team.id}/insights/my_last_viewed/", headers=team.headers)).json()
        assert [i["id"] for i in body] == [c["id"] for c in reversed(created)][:5]
        assert "result" not in body[0]  # basic serializer
        assert body[0]["last_viewed_at"] is not None

    async def test_bulk_viewed_drops_foreign_and_deleted_ids(
        self,
        client: httpx.AsyncClient,
        team: Team,
        other_team: Team,
        sessionmaker: async_sessionmaker[AsyncSession],
        prefix: str,
    ) -> None:
        colleague, _ = await add_member(sessionmaker, team)
        live = await create_insight(client, colleague, prefix)
        gone = await create_insight(client, colleague, prefix)
        await client.patch(
            f"{prefix}/{team.id}/insights/{gone['id']}/", json={"deleted": True}, headers=colleague.headers
        )
        theirs = await create_insight(client, other_team, prefix)
        response = await client.post(
            f"{prefix}/{team.id}/insights/viewed/",
            json={"insight_ids": [live["id"], gone["id"], theirs["id"], 999999]},
            headers=team.headers,
        )
        assert response.status_code == 201
        body = (await client.get(f"{prefix}/{team.id}/insights/my_last_viewed/", headers=team.headers)).json()
        assert [i["id"] for i in body] == [live["id"]]

    async def test_bulk_viewed_validates_the_list(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        for payload in ({"insight_ids": []}, {}, {"insight_ids": ["x"]}):
            response = await client.post(
                f"{prefix}/{team.id}/insights/viewed/", json=payload, headers=team.headers
            )
            assert response.status_code == 400, payload
            assert response.json()["attr"].startswith("insight_ids")

    async def test_viewing_a_foreign_insight_is_404(
        self, client: httpx.AsyncClient, team: Team, other_team: Team, prefix: str
    ) -> None:
        theirs = await create_insight(client, other_team, prefix)
        response = await client.post(
            f"{prefix}/{team.id}/insights/{theirs['id']}/viewed/", headers=team.headers
        )
        assert response.status_code == 404
