"""The per-process cache of authenticated keys: expiry, bounds, invalidation."""

from __future__ import annotations

import pytest

from app import principals
from app.models import PersonalAPIKey, User
from app.principals import PrincipalCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(principals.time, "monotonic", fake)
    return fake


def _put(cache: PrincipalCache, value: str) -> None:
    cache.put(value, PersonalAPIKey(), User())


class TestPrincipalCache:
    def test_an_entry_lives_ttl_seconds(self, clock: Clock) -> None:
        cache = PrincipalCache(ttl=5)
        _put(cache, "a")
        clock.now += 4.9
        assert cache.get("a") is not None
        clock.now += 0.2
        assert cache.get("a") is None

    def test_discard_and_clear_forget_at_once(self, clock: Clock) -> None:
        cache = PrincipalCache(ttl=5)
        _put(cache, "a")
        _put(cache, "b")
        cache.discard("a")
        assert cache.get("a") is None
        assert cache.get("b") is not None
        cache.clear()
        assert cache.get("b") is None

    def test_the_oldest_entry_goes_past_the_bound(self, clock: Clock) -> None:
        cache = PrincipalCache(ttl=5, max_entries=2)
        for value in ("a", "b", "c"):
            _put(cache, value)
        assert [cache.get(v) is not None for v in ("a", "b", "c")] == [False, True, True]

    def test_a_zero_ttl_caches_nothing(self, clock: Clock) -> None:
        cache = PrincipalCache(ttl=0)
        _put(cache, "a")
        assert cache.get("a") is None
