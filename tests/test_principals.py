"""The per-process cache of authenticated keys: expiry, bounds, invalidation."""

from __future__ import annotations

import asyncio

import pytest

from app import principals
from app.models import PersonalAPIKey, Project, User
from app.principals import Principal, PrincipalCache, ProjectAccess


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


class TestConcurrentMisses:
    async def test_share_one_load(self) -> None:
        cache = PrincipalCache(ttl=5)
        calls = 0
        release = asyncio.Event()

        async def load() -> Principal:
            nonlocal calls
            calls += 1
            await release.wait()
            return cache.put("a", PersonalAPIKey(), User())

        waiters = [asyncio.ensure_future(cache.load("a", load)) for _ in range(5)]
        await asyncio.sleep(0)
        release.set()
        loaded = await asyncio.gather(*waiters)
        assert calls == 1
        assert all(p is loaded[0] for p in loaded)

    async def test_a_failed_load_is_not_shared(self) -> None:
        cache = PrincipalCache(ttl=5)
        release = asyncio.Event()
        calls = 0

        async def load() -> Principal:
            nonlocal calls
            calls += 1
            if calls == 1:
                await release.wait()
                raise LookupError("first caller fails")
            return cache.put("a", PersonalAPIKey(), User())

        leader = asyncio.ensure_future(cache.load("a", load))
        await asyncio.sleep(0)
        follower = asyncio.ensure_future(cache.load("a", load))
        await asyncio.sleep(0)
        release.set()
        with pytest.raises(LookupError):
            await leader
        assert (await follower) is cache.get("a")
        assert calls == 2

    async def test_project_loads_are_shared_per_project(self) -> None:
        principal = PrincipalCache(ttl=5).put("a", PersonalAPIKey(), User())
        calls: list[str] = []

        async def load(raw: str) -> ProjectAccess:
            calls.append(raw)
            await asyncio.sleep(0)
            return ProjectAccess(Project(), 1, 1)

        loaded = await asyncio.gather(
            *(principal.load_project(raw, lambda raw=raw: load(raw)) for raw in ("1", "1", "2"))
        )
        assert sorted(calls) == ["1", "2"]
        assert loaded[0] is loaded[1] is principal.projects["1"]
