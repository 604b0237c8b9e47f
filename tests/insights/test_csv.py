"""`?format=csv` and `Accept: text/csv` on list and retrieve."""

from __future__ import annotations

import csv
import io

import httpx

from app.csv_export import flatten
from tests.factories.identity import Team
from tests.factories.insights import create_insight


def rows_of(response: httpx.Response) -> list[dict[str, str]]:
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_flatten_uses_dotted_names() -> None:
    assert flatten({"a": {"b": 1}, "t": ["x", "y"], "n": None}) == {
        "a.b": 1,
        "t.0": "x",
        "t.1": "y",
        "n": None,
    }


async def test_list_as_csv(client: httpx.AsyncClient, team: Team) -> None:
    first = await create_insight(client, team, name="One", tags=["a", "b"])
    second = await create_insight(client, team, name="Two, with a comma")
    rows = rows_of(await client.get(f"/api/projects/{team.id}/insights/?format=csv", headers=team.headers))
    assert [(r["id"], r["name"]) for r in rows] == [
        (str(first["id"]), "One"),
        (str(second["id"]), "Two, with a comma"),
    ]
    assert (rows[0]["tags.0"], rows[0]["tags.1"], rows[1]["tags.0"]) == ("a", "b", "")
    assert rows[0]["created_by.email"] == team.user.email
    assert rows[0]["saved"] == "false"
    assert rows[0]["created_at"] == first["created_at"]


async def test_retrieve_as_csv_by_format_or_accept(client: httpx.AsyncClient, team: Team) -> None:
    created = await create_insight(client, team, name="Solo")
    url = f"/api/projects/{team.id}/insights/{created['id']}/"
    by_format = rows_of(await client.get(url + "?format=csv", headers=team.headers))
    by_accept = rows_of(await client.get(url, headers={**team.headers, "Accept": "text/csv"}))
    assert by_format == by_accept
    assert [(r["id"], r["short_id"], r["name"]) for r in by_format] == [
        (str(created["id"]), created["short_id"], "Solo")
    ]
    assert (await client.get(url + "?format=xml", headers=team.headers)).status_code == 400
