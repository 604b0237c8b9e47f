"""Decoding capture bodies in every wrapping the SDKs use (pure, no database)."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from app.errors import ParseError, PayloadTooLarge
from app.ingestion.payload import InvalidPayload, MissingToken, capture_batch, decode_body

EVENTS = [{"event": "$pageview", "distinct_id": "d1", "properties": {"$current_url": "https://a.example/"}}]
BATCH = {"api_key": "phc_x", "batch": EVENTS, "sent_at": "2024-05-01T10:00:00+00:00"}
LIMIT = 1_000_000


def decode(body: bytes, query: dict[str, str] | None = None, **headers: str) -> object:
    return decode_body(body, query=query or {}, max_bytes=LIMIT, **headers)


class TestDecodeBody:
    def test_plain_json(self) -> None:
        assert decode(json.dumps(BATCH).encode()) == BATCH

    def test_content_encoding_gzip(self) -> None:
        assert decode(gzip.compress(json.dumps(BATCH).encode()), content_encoding="gzip") == BATCH

    @pytest.mark.parametrize("compression", ["gzip", "gzip-js"])
    def test_compression_query_gzip(self, compression: str) -> None:
        body = gzip.compress(json.dumps(EVENTS).encode())
        assert decode(body, {"compression": compression}, content_type="text/plain") == EVENTS

    def test_gzip_recognized_by_its_magic_bytes(self) -> None:
        assert decode(gzip.compress(json.dumps(EVENTS).encode())) == EVENTS

    def test_compression_base64(self) -> None:
        assert decode(base64.b64encode(json.dumps(EVENTS).encode()), {"compression": "base64"}) == EVENTS

    def test_form_data_base64_with_plus_turned_into_spaces_and_no_padding(self) -> None:
        encoded = base64.b64encode(json.dumps({"event": "é?>>", "distinct_id": "x"}).encode()).decode()
        assert "+" in encoded or "/" in encoded or "=" in encoded
        form = "data=" + encoded.rstrip("=").replace("+", " ")
        decoded = decode(form.encode(), content_type="application/x-www-form-urlencoded")
        assert decoded == {"event": "é?>>", "distinct_id": "x"}

    def test_form_data_json_with_compression_field(self) -> None:
        body = urlencode({"data": json.dumps(BATCH), "compression": "none"}).encode()
        assert decode(body, content_type="application/x-www-form-urlencoded; charset=utf-8") == BATCH

    def test_get_data_query_parameter(self) -> None:
        data = base64.b64encode(json.dumps(EVENTS[0]).encode()).decode()
        assert decode(b"", {"data": data}) == EVENTS[0]

    @pytest.mark.parametrize("body", [b"{not json", b"\x00\x01garbage", b"[1, 2", b"   "])
    def test_malformed_bodies_are_parse_errors(self, body: bytes) -> None:
        with pytest.raises(ParseError):
            decode(body)

    def test_corrupt_gzip_is_a_parse_error(self) -> None:
        with pytest.raises(ParseError):
            decode(gzip.compress(b'{"a": 1}')[:-6] + b"zzzzzz", content_encoding="gzip")

    def test_gzip_bomb_is_too_large(self) -> None:
        bomb = gzip.compress(b"[" + b" " * (LIMIT * 25) + b"]")
        assert len(bomb) < LIMIT
        with pytest.raises(PayloadTooLarge):
            decode(bomb, content_encoding="gzip")

    def test_unsupported_compression(self) -> None:
        with pytest.raises(ParseError, match="lz64"):
            decode(b"abc", {"compression": "lz64"})


class TestCaptureBatch:
    def test_batch_token_events_and_sent_at(self) -> None:
        batch = capture_batch(BATCH, {})
        assert (batch.token, batch.events) == ("phc_x", EVENTS)
        assert batch.sent_at == datetime(2024, 5, 1, 10, tzinfo=UTC)

    def test_single_event_with_token_in_properties(self) -> None:
        event = {"event": "e", "distinct_id": "d", "properties": {"token": "phc_p"}}
        assert capture_batch(event, {}).token == "phc_p"

    def test_bare_list_with_token_in_query_and_send_time_from_underscore(self) -> None:
        batch = capture_batch(EVENTS, {"token": "phc_q", "_": "1714557600000"})
        assert batch.token == "phc_q"
        assert batch.sent_at == datetime(2024, 5, 1, 10, tzinfo=UTC)

    @pytest.mark.parametrize("key", ["api_key", "token", "$token"])
    def test_token_spellings_on_the_event(self, key: str) -> None:
        assert capture_batch([{"event": "e", key: "phc_e"}], {}).token == "phc_e"

    def test_body_token_wins_over_query(self) -> None:
        assert capture_batch(BATCH, {"token": "phc_other"}).token == "phc_x"

    def test_missing_token(self) -> None:
        with pytest.raises(MissingToken) as raised:
            capture_batch({"batch": EVENTS}, {})
        assert raised.value.status_code == 401
        assert raised.value.code == "missing_api_key"

    @pytest.mark.parametrize("payload", [42, "text", {"batch": "nope", "api_key": "t"}, [1, 2]])
    def test_shapes_that_are_not_events(self, payload: object) -> None:
        with pytest.raises(InvalidPayload):
            capture_batch(payload, {"token": "t"})
