"""Staleness thresholds and derived timing fields (reference §1.10), with injected times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.execution.cache_policy import cache_target_age, is_stale, next_allowed_client_refresh

REFRESHED = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("interval", "fresh_for", "lazy_fresh_for"),
    [
        ("minute", timedelta(minutes=5), timedelta(minutes=15)),
        ("hour", timedelta(hours=1), timedelta(hours=2)),
        ("day", timedelta(hours=6), timedelta(hours=12)),
        ("week", timedelta(days=1), timedelta(days=1)),
        ("month", timedelta(days=1), timedelta(days=1)),
        (None, timedelta(hours=6), timedelta(hours=12)),
    ],
)
def test_thresholds_per_interval(
    interval: str | None, fresh_for: timedelta, lazy_fresh_for: timedelta
) -> None:
    ongoing = REFRESHED + timedelta(days=30)  # the range reaches into the future: not historical
    second = timedelta(seconds=1)
    assert not is_stale(last_refresh=REFRESHED, now=REFRESHED + fresh_for, date_to=ongoing, interval=interval)
    assert is_stale(
        last_refresh=REFRESHED, now=REFRESHED + fresh_for + second, date_to=ongoing, interval=interval
    )
    assert not is_stale(
        last_refresh=REFRESHED, now=REFRESHED + lazy_fresh_for, date_to=ongoing, interval=interval, lazy=True
    )
    assert is_stale(
        last_refresh=REFRESHED,
        now=REFRESHED + lazy_fresh_for + second,
        date_to=ongoing,
        interval=interval,
        lazy=True,
    )
    assert cache_target_age(REFRESHED, interval, ongoing) == REFRESHED + fresh_for


def test_second_interval_never_stale() -> None:
    assert not is_stale(
        last_refresh=REFRESHED, now=REFRESHED + timedelta(days=365), date_to=None, interval="second"
    )


def test_fully_historical_range_is_never_stale() -> None:
    ended = REFRESHED - timedelta(days=1)
    assert not is_stale(
        last_refresh=REFRESHED, now=REFRESHED + timedelta(days=90), date_to=ended, interval="day"
    )
    assert cache_target_age(REFRESHED, "day", ended) is None
    # Within the 10-second margin it is still "live".
    almost = REFRESHED - timedelta(seconds=5)
    assert is_stale(
        last_refresh=REFRESHED, now=REFRESHED + timedelta(hours=7), date_to=almost, interval="day"
    )


@pytest.mark.parametrize(
    ("kind", "interval", "days", "wait"),
    [
        ("TrendsQuery", "day", 30, timedelta(minutes=15)),
        ("TrendsQuery", "hour", 30, timedelta(minutes=3)),
        ("FunnelsQuery", "day", 7, timedelta(minutes=3)),
        ("StickinessQuery", "day", 30, timedelta(minutes=1)),
    ],
)
def test_next_allowed_client_refresh(kind: str, interval: str, days: int, wait: timedelta) -> None:
    assert next_allowed_client_refresh(REFRESHED, kind, interval, days) == REFRESHED + wait
