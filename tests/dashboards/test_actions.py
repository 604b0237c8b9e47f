"""Dashboard actions: run_insights, snapshot and analysis, tags, templates, unlisted, sharing, access."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.models.base import utcnow
from tests.factories.events import EventRow, insert_events
from tests.factories.identity import Team
from tests.factories.insights import add_member, create_insight, new_dashboard, trends

PREFIXES = ["/api/projects", "/api/environments"]


async def seed(engine: AsyncEngine, team: Team, event: str, count: int) -> None:
    now = utcnow()
    await insert_events(
        engine,
        team.id,
        [EventRow(event, now - timedelta(minutes=5 + n), None, distinct_id="u") for n in range(count)],
    )


@pytest.mark.parametrize("prefix", PREFIXES)
class TestRunInsights:
    async def test_json_and_optimized(
        self, client: httpx.AsyncClient, team: Team, engine: AsyncEngine, prefix: str
    ) -> None:
        await seed(engine, team, "$pageview", 3)
        await seed(engine, team, "signup", 2)
        board = await new_dashboard(client, team, prefix)
        views = await create_insight(client, team, prefix, name="Views", dashboards=[board["id"]])
        signups = await create_insight(client, team, prefix, query=trends("signup"), dashboards=[board["id"]])
        await client.patch(
            f"{prefix}/{team.id}/dashboards/{board['id']}/", json={"tiles": [{"text": {"body": "notes"}}]},
            headers=team.headers,
        )  # fmt: skip
        url = f"{prefix}/{team.id}/dashboards/{board['id']}/run_insights/"
        cached = (await client.get(url + "?output_format=json", headers=team.headers)).json()["results"]
        assert [r["insight"]["result"] for r in cached] == [
            None,
            None,
        ]  # default force_cache computes nothing
        body = (await client.get(url + "?output_format=json&refresh=blocking", headers=team.headers)).json()
        by_insight = {r["insight"]["id"]: r for r in body["results"]}
        assert set(by_insight) == {views["id"], signups["id"]}  # the text tile is skipped
        assert set(by_insight[views["id"]]["insight"]) == {"id", "short_id", "name", "derived_name", "result"}
        assert by_insight[views["id"]]["insight"]["result"][0]["count"] == 3
        assert by_insight[signups["id"]]["insight"]["result"][0]["count"] == 2
        text = (await client.get(url, headers=team.headers)).json()["results"]
        assert f"## Views (insight {views['short_id']}" in text
        assert "- Signup: 2.0" in text or "- signup: 2.0" in text
        bad = await client.get(url + "?refresh=async", headers=team.headers)
        assert (bad.status_code, bad.json()["attr"]) == (400, "refresh")


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_snapshot_then_analyze_the_refresh(
    client: httpx.AsyncClient, team: Team, engine: AsyncEngine, prefix: str
) -> None:
    await seed(engine, team, "$pageview", 4)
    board = await new_dashboard(client, team, prefix)
    await create_insight(client, team, prefix, name="Views", dashboards=[board["id"]])
    url = f"{prefix}/{team.id}/dashboards/{board['id']}/"
    await client.get(url + "?refresh=blocking", headers=team.headers)
    key = (await client.post(url + "snapshot/", json={}, headers=team.headers)).json()["cache_key"]
    assert key.startswith(f"dashboard_refresh_before_{board['id']}_{team.user.id}_")
    same = (
        await client.post(url + "analyze_refresh_result/", json={"cache_key": key}, headers=team.headers)
    ).json()
    assert same == {"result": "No significant changes detected in the dashboard data.", "changes": []}

    await seed(engine, team, "$pageview", 2)
    await client.get(url + "?refresh=force_blocking", headers=team.headers)
    changed = (
        await client.post(url + "analyze_refresh_result/", json={"cache_key": key}, headers=team.headers)
    ).json()
    (change,) = changed["changes"]
    assert (change["insight_name"], change["before"], change["after"]) == ("Views", 4.0, 6.0)
    assert (change["delta"], change["delta_pct"]) == (2.0, 50.0)
    assert changed["result"] == "Views: $pageview went from 4 to 6 (+2, +50.0%)."
    missing = await client.post(url + "analyze_refresh_result/", json={}, headers=team.headers)
    assert (missing.status_code, missing.json()["detail"]) == (400, "cache_key is required")
    expired = await client.post(
        url + "analyze_refresh_result/", json={"cache_key": key + "0"}, headers=team.headers
    )
    assert expired.status_code == 400
    other = await new_dashboard(client, team, prefix)
    foreign_key = await client.post(
        f"{prefix}/{team.id}/dashboards/{other['id']}/analyze_refresh_result/", json={"cache_key": key},
        headers=team.headers,
    )  # fmt: skip
    assert foreign_key.status_code == 400


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_bulk_update_tags(client: httpx.AsyncClient, team: Team, other_team: Team, prefix: str) -> None:
    a = await new_dashboard(client, team, prefix, tags=["x"])
    b = await new_dashboard(client, team, prefix)
    theirs = await new_dashboard(client, other_team, prefix)
    response = await client.post(
        f"{prefix}/{team.id}/dashboards/bulk_update_tags/",
        json={"ids": [a["id"], b["id"], theirs["id"]], "action": "add", "tags": ["Y"]},
        headers=team.headers,
    )
    assert response.json() == {
        "updated": [{"id": a["id"], "tags": ["x", "y"]}, {"id": b["id"], "tags": ["y"]}],
        "skipped": [{"id": theirs["id"], "reason": "Not found or no edit access"}],
    }


@pytest.mark.parametrize("prefix", PREFIXES)
class TestTemplates:
    async def test_listing_and_use_template(self, client: httpx.AsyncClient, team: Team, prefix: str) -> None:
        listing = (await client.get(f"{prefix}/{team.id}/dashboard_templates/", headers=team.headers)).json()
        keys = [t["id"] for t in listing["results"]]
        assert "DEFAULT_APP" in keys
        default = next(t for t in listing["results"] if t["id"] == "DEFAULT_APP")
        board = await new_dashboard(client, team, prefix, use_template="DEFAULT_APP")
        assert sorted(t["insight"]["name"] for t in board["tiles"]) == sorted(
            t["name"] for t in default["tiles"]
        )
        one = await client.get(f"{prefix}/{team.id}/dashboard_templates/DEFAULT_APP/", headers=team.headers)
        assert one.json()["template_name"] == default["template_name"]
        assert (
            await client.get(f"{prefix}/{team.id}/dashboard_templates/NOPE/", headers=team.headers)
        ).status_code == 404

    async def test_create_from_template_json_substitutes_variables(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        template = {
            "template_name": "Checkout",
            "dashboard_description": "How checkout goes",
            "dashboard_filters": {"date_from": "-30d"},
            "tags": ["Sales"],
            "tiles": [
                {
                    "type": "INSIGHT",
                    "name": "Purchases",
                    "query": trends("{PURCHASE}"),
                    "layouts": {"sm": {"x": 0, "y": 0}},
                },
                {"type": "TEXT", "body": "Watch {PURCHASE} closely", "layouts": {"sm": {"x": 6, "y": 0}}},
            ],
            "variables": [
                {"id": "PURCHASE", "name": "Purchase", "type": "event", "default": {"id": "purchase_done"}}
            ],
        }
        response = await client.post(
            f"{prefix}/{team.id}/dashboards/create_from_template_json/",
            json={"template": template},
            headers=team.headers,
        )
        assert response.status_code == 201, response.text
        board = response.json()
        assert (board["name"], board["description"], board["creation_mode"], board["tags"]) == (
            "Checkout", "How checkout goes", "template", ["sales"],
        )  # fmt: skip
        assert board["filters"] == {"date_from": "-30d"}
        insight_tile, text_tile = board["tiles"]
        assert insight_tile["insight"]["query"]["source"]["series"][0]["event"] == "purchase_done"
        assert insight_tile["insight"]["name"] == "Purchases"
        assert text_tile["text"]["body"] == "Watch purchase_done closely"

    async def test_invalid_template_creates_nothing(
        self, client: httpx.AsyncClient, team: Team, prefix: str
    ) -> None:
        bad = {
            "template_name": "Broken",
            "tiles": [{"type": "INSIGHT", "name": "x", "query": {"kind": "Nope"}}],
        }
        response = await client.post(
            f"{prefix}/{team.id}/dashboards/create_from_template_json/",
            json={"template": bad},
            headers=team.headers,
        )
        assert (response.status_code, response.json()["attr"]) == (400, "template__tiles__0__query__kind")
        assert (await client.get(f"{prefix}/{team.id}/dashboards/", headers=team.headers)).json()[
            "count"
        ] == 0
        assert (await client.get(f"{prefix}/{team.id}/insights/", headers=team.headers)).json()["count"] == 0


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_unlisted_dashboard_one_per_tag(
    client: httpx.AsyncClient, team: Team, other_team: Team, prefix: str
) -> None:
    url = f"{prefix}/{team.id}/dashboards/create_unlisted_dashboard/"
    created = await client.post(url, json={"tag": "llm-analytics"}, headers=team.headers)
    assert created.status_code == 201
    assert (created.json()["creation_mode"], created.json()["tags"]) == ("unlisted", ["llm-analytics"])
    again = await client.post(url, json={"tag": "llm-analytics"}, headers=team.headers)
    assert again.status_code == 409
    assert again.json()["detail"] == "Unlisted dashboard with tag 'llm-analytics' already exists"
    other = await client.post(
        f"{prefix}/{other_team.id}/dashboards/create_unlisted_dashboard/", json={"tag": "llm-analytics"},
        headers=other_team.headers,
    )  # fmt: skip
    assert other.status_code == 201  # per project
    assert (await client.post(url, json={}, headers=team.headers)).json()["detail"] == "tag is required"
    assert (await client.post(url, json={"tag": "nope"}, headers=team.headers)).status_code == 400
    # Deleting it frees the tag.
    await client.patch(
        f"{prefix}/{team.id}/dashboards/{created.json()['id']}/", json={"deleted": True}, headers=team.headers
    )
    assert (await client.post(url, json={"tag": "llm-analytics"}, headers=team.headers)).status_code == 201


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_sharing_gives_a_read_only_view_of_the_whole_dashboard(
    client: httpx.AsyncClient, team: Team, engine: AsyncEngine, prefix: str
) -> None:
    await seed(engine, team, "$pageview", 3)
    board = await new_dashboard(client, team, prefix, name="Public")
    await create_insight(client, team, prefix, name="Views", dashboards=[board["id"]])
    await client.get(f"{prefix}/{team.id}/dashboards/{board['id']}/?refresh=blocking", headers=team.headers)
    url = f"{prefix}/{team.id}/dashboards/{board['id']}/sharing/"
    assert (await client.get(url, headers=team.headers)).json()["enabled"] is False
    token = (await client.patch(url, json={"enabled": True}, headers=team.headers)).json()["access_token"]
    listed = (await client.get(f"{prefix}/{team.id}/dashboards/", headers=team.headers)).json()["results"]
    assert listed[0]["is_shared"] is True
    shared = (await client.get(f"/shared/{token}")).json()["dashboard"]
    assert (shared["name"], len(shared["tiles"])) == ("Public", 1)
    tile: dict[str, Any] = shared["tiles"][0]
    assert tile["insight"]["name"] == "Views"
    assert tile["insight"]["result"][0]["count"] == 3
    assert "created_by" not in tile["insight"]
    assert "created_by" not in shared
    await client.patch(url, json={"enabled": False}, headers=team.headers)
    assert (await client.get(f"/shared/{token}")).status_code == 404


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_access_controls_hide_and_protect(
    client: httpx.AsyncClient, team: Team, sessionmaker: async_sessionmaker[AsyncSession], prefix: str
) -> None:
    board = await new_dashboard(client, team, prefix)
    viewer, viewer_membership = await add_member(sessionmaker, team)
    hidden, hidden_membership = await add_member(sessionmaker, team)
    url = f"{prefix}/{team.id}/dashboards/{board['id']}/"
    for membership, level in ((viewer_membership, "viewer"), (hidden_membership, "none")):
        put = await client.put(
            url + "access_controls/", json={"access_level": level, "organization_member": membership},
            headers=team.headers,
        )  # fmt: skip
        assert put.status_code == 200
    rules = (await client.get(url + "access_controls/", headers=team.headers)).json()
    assert len(rules["access_controls"]) == 2
    seen = (await client.get(url, headers=viewer.headers)).json()
    assert (seen["user_access_level"], seen["effective_privilege_level"]) == ("viewer", 21)
    assert (await client.patch(url, json={"name": "x"}, headers=viewer.headers)).status_code == 403
    assert (await client.get(url, headers=hidden.headers)).status_code == 404
    assert (await client.get(f"{prefix}/{team.id}/dashboards/", headers=hidden.headers)).json()["count"] == 0
