"""The official posthog-python SDK, pointed at a live server, ingests unchanged."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from posthog import Posthog

from tests.conftest import LiveServer
from tests.factories.identity import Team
from tests.ingestion.conftest import Stored


def send_with_sdk(token: str, host: str, *, gzip: bool) -> list[str]:
    client = Posthog(token, host=host, gzip=gzip, flush_at=50, max_retries=0, disable_geoip=True)
    errors: list[str] = []
    client.on_error = lambda error, _items: errors.append(str(error))
    when = datetime.now(UTC) - timedelta(hours=1)
    client.capture(
        "$pageview",
        distinct_id="anon-1",
        properties={"$current_url": "https://shop.example/"},
        timestamp=when,
    )
    client.capture("added_to_cart", distinct_id="anon-1", properties={"price": 12.5, "sku": "A-1"})
    client.capture(
        "$identify",
        distinct_id="ada@example.com",
        properties={"$anon_distinct_id": "anon-1", "$set": {"email": "ada@example.com", "plan": "pro"}},
    )
    client.set(distinct_id="ada@example.com", properties={"company": "Analytical Engines"})
    client.set_once(
        distinct_id="ada@example.com", properties={"first_seen_campaign": "spring", "plan": "never"}
    )
    client.alias(previous_id="ada@example.com", distinct_id="customer-1729")
    client.capture("purchase", distinct_id="customer-1729", properties={"revenue": 99})
    client.flush()
    client.shutdown()
    return errors


async def test_posthog_python_sdk(live_server: LiveServer, team: Team, stored: Stored) -> None:
    for gzip in (False, True):
        errors = await asyncio.to_thread(send_with_sdk, team.project.api_token, live_server.url, gzip=gzip)
        assert errors == []
    events = await stored.events(team.id)
    # Sent twice (plain and gzip) with fresh uuids each time: every event is stored, twice.
    names = sorted(e["event"] for e in events)
    assert names == sorted(
        ["$pageview", "added_to_cart", "$identify", "$set", "$set_once", "$create_alias", "purchase"] * 2
    )
    persons = await stored.persons(team.id)
    ada = persons["ada@example.com"]
    assert persons["anon-1"]["uuid"] == ada["uuid"] == persons["customer-1729"]["uuid"]
    assert ada["is_identified"] is True
    assert ada["properties"] == {
        "email": "ada@example.com",
        "plan": "pro",
        "company": "Analytical Engines",
        "first_seen_campaign": "spring",
    }
    assert all(e["person_id"] == ada["uuid"] for e in events)
    pageview = next(e for e in events if e["event"] == "$pageview")
    assert pageview["properties"]["$lib"] == "posthog-python"
    assert pageview["properties"]["$current_url"] == "https://shop.example/"
    # The SDK's timestamp, corrected by its (nil) clock skew: about an hour ago, not now.
    assert abs(pageview["timestamp"] - (datetime.now(UTC) - timedelta(hours=1))) < timedelta(minutes=2)
    cart = next(e for e in events if e["event"] == "added_to_cart")
    assert cart["properties"]["price"] == 12.5
