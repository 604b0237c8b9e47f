"""List filters and ordering, as PostHog's `_filter_request` applies them."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import Dashboard, Insight
from app.models.base import utcnow
from tests.factories.identity import Team
from tests.factories.insights import add_member, create_dashboard, create_insight, trends

FUNNEL = {
    "kind": "InsightVizNode",
    "source": {
        "kind": "FunnelsQuery",
        "series": [{"kind": "EventsNode", "event": "signup"}, {"kind": "EventsNode", "event": "purchase"}],
    },
}


async def listed(client: httpx.AsyncClient, team: Team, query: str = "") -> list[int]:
    response = await client.get(f"/api/projects/{team.id}/insights/?{query}", headers=team.headers)
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["results"]]


async def set_times(sessionmaker: async_sessionmaker[AsyncSession], insight_id: int, **times: object) -> None:
    async with sessionmaker() as session:
        await session.execute(update(Insight).where(Insight.id == insight_id).values(**times))
        await session.commit()


class TestFilters:
    async def test_short_id(self, client: httpx.AsyncClient, team: Team, other_team: Team) -> None:
        mine = await create_insight(client, team)
        await create_insight(client, team)
        theirs = await create_insight(client, other_team)
        assert await listed(client, team, f"short_id={mine['short_id']}") == [mine["id"]]
        assert await listed(client, team, f"short_id={theirs['short_id']}") == []

    async def test_saved_includes_unsaved_insights_on_normal_dashboards(
        self, client: httpx.AsyncClient, team: Team, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        normal = await create_dashboard(sessionmaker, team)
        unlisted = await create_dashboard(sessionmaker, team, creation_mode="unlisted")
        saved = await create_insight(client, team, saved=True)
        on_board = await create_insight(client, team, dashboards=[normal.id])
        only_unlisted = await create_insight(client, team, dashboards=[unlisted.id])
        loose = await create_insight(client, team)
        assert sorted(await listed(client, team, "saved=true")) == sorted([saved["id"], on_board["id"]])
        assert sorted(await listed(client, team, "saved=false")) == sorted(
            [on_board["id"], only_unlisted["id"], loose["id"]]
        )

    async def test_user_and_created_by(
        self, client: httpx.AsyncClient, team: Team, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        colleague, _ = await add_member(sessionmaker, team)
        mine = await create_insight(client, team, saved=True)
        theirs = await create_insight(client, colleague)
        assert await listed(client, team, "user=true") == [mine["id"]]
        assert await listed(client, colleague, "user=true") == [theirs["id"]]
        assert await listed(client, team, f"created_by=[{colleague.user.id}]") == [theirs["id"]]
        assert await listed(client, team, f"created_by={team.user.id}") == [mine["id"]]
        # PostHog's test: one saved and one unsaved by me → user + saved counts one.
        await create_insight(client, team)
        assert len(await listed(client, team, "user=true&saved=true")) == 1

    async def test_favorited(self, client: httpx.AsyncClient, team: Team) -> None:
        await create_insight(client, team)
        starred = await create_insight(client, team, favorited=True)
        assert await listed(client, team, "favorited=true") == [starred["id"]]

    async def test_kind_matches_query_source_and_legacy_filters(
        self, client: httpx.AsyncClient, team: Team
    ) -> None:
        trend = await create_insight(client, team)
        funnel = await create_insight(client, team, query=FUNNEL)
        legacy_funnel = await create_insight(
            client, team, query=None, filters={"insight": "FUNNELS", "events": [{"id": "a"}, {"id": "b"}]}
        )
        legacy_trend = await create_insight(client, team, query=None, filters={"events": [{"id": "a"}]})
        assert sorted(await listed(client, team, "insight=FUNNELS")) == sorted(
            [funnel["id"], legacy_funnel["id"]]
        )
        assert sorted(await listed(client, team, "insight=TRENDS")) == sorted(
            [trend["id"], legacy_trend["id"]]
        )
        assert await listed(client, team, "insight=RETENTION") == []
        bad = await client.get(f"/api/projects/{team.id}/insights/?insight=NOPE", headers=team.headers)
        assert (bad.status_code, bad.json()["attr"]) == (400, "insight")

    async def test_dashboards_means_on_all_of_them(
        self, client: httpx.AsyncClient, team: Team, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        one, two = await create_dashboard(sessionmaker, team), await create_dashboard(sessionmaker, team)
        both = await create_insight(client, team, dashboards=[one.id, two.id])
        only_one = await create_insight(client, team, dashboards=[one.id])
        assert sorted(await listed(client, team, f"dashboards=[{one.id}]")) == sorted(
            [both["id"], only_one["id"]]
        )
        assert await listed(client, team, f"dashboards=[{one.id},{two.id}]") == [both["id"]]
        async with sessionmaker() as session:
            await session.execute(update(Dashboard).where(Dashboard.id == two.id).values(deleted=True))
            await session.commit()
        assert await listed(client, team, f"dashboards=[{two.id}]") == []

    async def test_tags_means_any_of_them(self, client: httpx.AsyncClient, team: Team) -> None:
        a = await create_insight(client, team, tags=["a"])
        b = await create_insight(client, team, tags=["b", "c"])
        await create_insight(client, team, tags=["d"])
        assert sorted(await listed(client, team, 'tags=["A","c"]')) == sorted([a["id"], b["id"]])

    async def test_date_filters(
        self, client: httpx.AsyncClient, team: Team, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        old = await create_insight(client, team)
        new = await create_insight(client, team)
        ten_days_ago = utcnow() - timedelta(days=10)
        await set_times(sessionmaker, old["id"], last_modified_at=ten_days_ago, created_at=ten_days_ago)
        assert await listed(client, team, "date_from=-7d") == [new["id"]]
        assert await listed(client, team, "date_to=-7d") == [old["id"]]
        day = (utcnow() - timedelta(days=9)).date().isoformat()
        assert await listed(client, team, f"created_date_to={day}") == [old["id"]]
        assert await listed(client, team, f"created_date_from={day}") == [new["id"]]
        bad = await client.get(
            f"/api/projects/{team.id}/insights/?date_from=yesterdayish", headers=team.headers
        )
        assert (bad.status_code, bad.json()["attr"]) == (400, "date_from")

    async def test_last_viewed_filters_and_ordering(self, client: httpx.AsyncClient, team: Team) -> None:
        first = await create_insight(client, team)
        second = await create_insight(client, team)
        await client.post(f"/api/projects/{team.id}/insights/{first['id']}/viewed/", headers=team.headers)
        assert await listed(client, team, "order=-last_viewed_at") == [first["id"], second["id"]]
        assert await listed(client, team, "order=last_viewed_at") == [second["id"], first["id"]]
        tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
        assert await listed(client, team, f"last_viewed_date_from={tomorrow}") == []


class TestSearch:
    async def test_exact_matches_come_first_then_similar(self, client: httpx.AsyncClient, team: Team) -> None:
        in_description = await create_insight(client, team, name="Revenue", description="Main dashboard KPI")
        in_name = await create_insight(client, team, name="Dashboard visits")
        typo_target = await create_insight(client, team, name="Dashbaord errors")
        tagged = await create_insight(client, team, name="Other", tags=["dashboard"])
        await create_insight(client, team, name="Unrelated")
        response = await client.get(
            f"/api/projects/{team.id}/insights/?search=dashboard", headers=team.headers
        )
        rows = response.json()["results"]
        assert [r["id"] for r in rows] == [
            in_name["id"],
            tagged["id"],
            in_description["id"],
            typo_target["id"],
        ]
        assert [r["search_match_type"] for r in rows] == ["exact", "exact", "exact", "similar"]

    async def test_typos_still_match(self, client: httpx.AsyncClient, team: Team) -> None:
        target = await create_insight(client, team, name="Weekly dashboard")
        await create_insight(client, team, name="Signups")
        assert await listed(client, team, "search=dahsboard") == [target["id"]]

    async def test_search_is_literal_not_a_pattern(self, client: httpx.AsyncClient, team: Team) -> None:
        await create_insight(client, team, name="abc")
        percent = await create_insight(client, team, name="100% done")
        assert await listed(client, team, "search=%25") == [percent["id"]]

    async def test_search_longer_than_200_characters_is_400(
        self, client: httpx.AsyncClient, team: Team
    ) -> None:
        response = await client.get(
            f"/api/projects/{team.id}/insights/?search={'x' * 201}", headers=team.headers
        )
        assert response.status_code == 400
        assert (response.json()["attr"], "200 characters" in response.json()["detail"]) == ("search", True)

    async def test_blank_search_returns_everything(self, client: httpx.AsyncClient, team: Team) -> None:
        created = [await create_insight(client, team, name=n) for n in ("a", "b")]
        assert await listed(client, team, "search=") == [c["id"] for c in created]


class TestOrdering:
    async def test_default_is_order_then_id(
        self, client: httpx.AsyncClient, team: Team, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        a = await create_insight(client, team, order=2)
        b = await create_insight(client, team, order=1)
        c = await create_insight(client, team)
        assert await listed(client, team) == [b["id"], a["id"], c["id"]]

    @pytest.mark.parametrize("order", ["-last_modified_at", "name"])
    async def test_explicit_order(self, client: httpx.AsyncClient, team: Team, order: str) -> None:
        z = await create_insight(client, team, name="zeta")
        a = await create_insight(client, team, name="alpha")
        expected = [a["id"], z["id"]]
        assert await listed(client, team, f"order={order}") == expected

    async def test_unknown_order_field_is_400(self, client: httpx.AsyncClient, team: Team) -> None:
        response = await client.get(f"/api/projects/{team.id}/insights/?order=password", headers=team.headers)
        assert (response.status_code, response.json()["attr"]) == (400, "order")


async def test_legacy_filters_are_shown_as_a_query(client: httpx.AsyncClient, team: Team) -> None:
    filters = {"insight": "TRENDS", "events": [{"id": "$pageview", "math": "dau"}], "date_from": "-30d"}
    body = await create_insight(client, team, query=None, filters=filters)
    assert body["filters"] == filters
    assert body["query"]["kind"] == "InsightVizNode"
    assert body["query"]["source"]["kind"] == "TrendsQuery"
    assert body["query"]["source"]["series"][0]["event"] == "$pageview"
    assert body["derived_name"] == "Pageview unique users, last 30 days"
    garbage = await client.post(
        f"/api/projects/{team.id}/insights/", json={"filters": {"insight": "NOPE"}}, headers=team.headers
    )
    assert garbage.status_code == 400
    assert garbage.json()["attr"].startswith("filters")
    assert trends()["kind"] == "InsightVizNode"
