"""From a raw SDK event to the stored row: names, ids, times, elements (pure, no database)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.elements_chain import parse_chain
from app.ingestion.events import normalize_event
from app.ingestion.payload import InvalidPayload

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def event(**fields: object) -> dict[str, object]:
    return {"event": "$pageview", "distinct_id": "d1", **fields}


def normalize(raw: dict[str, object], sent_at: datetime | None = None, ip: str | None = None):  # type: ignore[no-untyped-def]
    return normalize_event(raw, index=0, now=NOW, sent_at=sent_at, ip=ip)


class TestTimestamp:
    def test_clock_skew_is_corrected_with_sent_at(self) -> None:
        # The client's clock runs 10 minutes behind: it stamped the event 30 s before sending it.
        sent = NOW - timedelta(minutes=10)
        stamped = sent - timedelta(seconds=30)
        captured = normalize(event(timestamp=stamped.isoformat()), sent_at=sent)
        assert captured.timestamp == NOW - timedelta(seconds=30)

    def test_event_level_sent_at_wins(self) -> None:
        captured = normalize(
            event(timestamp="2024-05-01T11:00:00Z", sent_at="2024-05-01T11:00:10Z"),
            sent_at=NOW - timedelta(days=1),
        )
        assert captured.timestamp == NOW - timedelta(seconds=10)

    def test_ignore_sent_at(self) -> None:
        raw = event(timestamp="2024-05-01T08:00:00Z", properties={"$ignore_sent_at": True})
        assert normalize(raw, sent_at=NOW - timedelta(hours=1)).timestamp == datetime(
            2024, 5, 1, 8, tzinfo=UTC
        )

    def test_timestamp_without_sent_at_is_taken_as_is_naive_meaning_utc(self) -> None:
        assert normalize(event(timestamp="2023-01-02T03:04:05.678")).timestamp == datetime(
            2023, 1, 2, 3, 4, 5, 678000, tzinfo=UTC
        )

    def test_offset(self) -> None:
        assert normalize(event(offset=1500)).timestamp == NOW - timedelta(milliseconds=1500)

    def test_no_time_at_all_is_now(self) -> None:
        assert normalize(event()).timestamp == NOW

    @pytest.mark.parametrize("bad", ["yesterday", "2024-13-45", {"a": 1}, True])
    def test_unusable_timestamps_become_now(self, bad: object) -> None:
        assert normalize(event(timestamp=bad)).timestamp == NOW

    def test_far_future_becomes_now_near_future_is_kept(self) -> None:
        assert normalize(event(timestamp=(NOW + timedelta(days=2)).isoformat())).timestamp == NOW
        soon = NOW + timedelta(hours=2)
        assert normalize(event(timestamp=soon.isoformat())).timestamp == soon


class TestIdentityAndShape:
    @pytest.mark.parametrize(
        "fields",
        [
            {"distinct_id": 42},
            {"distinct_id": None, "$distinct_id": "42"},
            {"properties": {"distinct_id": "42"}},
        ],
    )
    def test_distinct_id_sources(self, fields: dict[str, object]) -> None:
        raw = {"event": "e", **fields}
        assert normalize(raw).distinct_id == "42"

    def test_distinct_id_is_truncated_to_200(self) -> None:
        assert normalize(event(distinct_id="x" * 300)).distinct_id == "x" * 200

    @pytest.mark.parametrize("raw", [{"distinct_id": "d"}, {"event": "", "distinct_id": "d"}, {"event": 3}])
    def test_missing_event_name(self, raw: dict[str, object]) -> None:
        with pytest.raises(InvalidPayload, match='event name field "event"'):
            normalize(raw)

    @pytest.mark.parametrize("distinct_id", [None, "", "   ", True, {"a": 1}])
    def test_missing_distinct_id(self, distinct_id: object) -> None:
        with pytest.raises(InvalidPayload, match='"distinct_id"'):
            normalize({"event": "e", "distinct_id": distinct_id})

    def test_properties_must_be_an_object(self) -> None:
        with pytest.raises(InvalidPayload):
            normalize(event(properties=[1, 2]))

    def test_uuid_is_kept_or_generated_and_must_be_valid(self) -> None:
        given = uuid.uuid4()
        assert normalize(event(uuid=str(given).upper())).uuid == str(given)
        assert normalize(event(uuid="{" + str(given) + "}")).uuid == given  # other spellings are parsed
        first, second = normalize(event()).uuid, normalize(event()).uuid
        assert first != second
        with pytest.raises(InvalidPayload, match="uuid"):
            normalize(event(uuid="not-a-uuid"))
        with pytest.raises(InvalidPayload, match="uuid"):
            normalize(event(uuid="0" * 31 + "g"))

    def test_top_level_set_joins_properties(self) -> None:
        captured = normalize({"event": "$set", "distinct_id": "d", "$set": {"plan": "pro"}})
        assert captured.person_updates() == ({"plan": "pro"}, {}, [])

    def test_session_id_token_and_ip(self) -> None:
        captured = normalize(event(properties={"$session_id": "s-1", "token": "phc_x"}), ip="10.0.0.1")
        assert captured.session_id == "s-1"
        assert "token" not in captured.properties
        assert captured.properties["$ip"] == "10.0.0.1"

    def test_nul_characters_never_reach_postgres(self) -> None:
        captured = normalize({"event": "a\x00b", "distinct_id": "d\x00", "properties": {"k": "v\x00"}})
        assert "\x00" not in captured.event + captured.distinct_id
        assert "\\u0000" not in captured.properties_json()

    def test_merge_source(self) -> None:
        identify = normalize(
            {"event": "$identify", "distinct_id": "u", "properties": {"$anon_distinct_id": "a"}}
        )
        alias = normalize({"event": "$create_alias", "distinct_id": "u", "properties": {"alias": "b"}})
        assert (identify.merge_from, alias.merge_from, normalize(event()).merge_from) == ("a", "b", None)


class TestElements:
    def test_elements_become_a_chain_and_leave_properties(self) -> None:
        raw = event(
            event="$autocapture",
            properties={
                "$elements": [
                    {
                        "tag_name": "a",
                        "$el_text": "Sign up",
                        "attr__href": "/signup",
                        "nth_child": 2,
                        "nth_of_type": 1,
                        "attr_class": ["btn", "primary"],
                    },
                    {"tag_name": "div", "nth_child": 1, "nth_of_type": 1},
                ]
            },
        )
        captured = normalize(raw)
        assert "$elements" not in captured.properties
        elements = parse_chain(captured.elements_chain)
        assert [e.tag_name for e in elements] == ["a", "div"]
        assert (elements[0].text, elements[0].href, elements[0].attr_class) == (
            "Sign up",
            "/signup",
            ["btn", "primary"],
        )

    def test_elements_chain_property_is_taken_as_is(self) -> None:
        chain = 'button.cta:nth-child="1"nth-of-type="1"text="Go"'
        captured = normalize(event(event="$autocapture", properties={"$elements_chain": chain}))
        assert captured.elements_chain == chain
        assert "$elements_chain" not in captured.properties
