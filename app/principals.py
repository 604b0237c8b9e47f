"""A short-lived, per-process cache of authenticated personal API keys and the projects they opened.

Authentication and project access cost four queries per request otherwise (key + user, project,
membership twice), which dominated cheap reads such as a cached insight. Entries hold *detached* ORM
objects, never attached to a session: each request merges its own copies (`load=False`, no SQL).

Freshness bound: an entry lives `ttl` seconds. Deleting a key through this process drops it at once
and updating a project clears the cache; anything else (a key deleted through another process, a
lost membership, a changed `current_project_id`) takes effect within `ttl` seconds. Only successful
lookups are cached: unknown keys, 403s and 404s are always decided by the database.

Concurrent misses for one entry share one load (`load`, `Principal.load_project`): when an entry
expires under load, every request in flight would otherwise run the same three queries at once,
which showed as a latency spike every `ttl` seconds. Only a success is shared; a caller whose
leader failed or went away loads for itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from app.models import PersonalAPIKey, Project, User

T = TypeVar("T")


async def _shared(
    flights: dict[str, asyncio.Future[T | None]], key: str, load: Callable[[], Awaitable[T]]
) -> T:
    """`load()`, or the result of the identical load already in flight in this process."""
    flight = flights.get(key)
    if flight is not None:
        shared = await asyncio.shield(flight)
        if shared is not None:
            return shared
        return await load()  # the leader failed: decide for ourselves, never with its error
    flight = asyncio.get_running_loop().create_future()
    flights[key] = flight
    value: T | None = None
    try:
        value = await load()
        return value
    finally:
        del flights[key]
        flight.set_result(value)


@dataclass(frozen=True, slots=True)
class ProjectAccess:
    project: Project  # detached
    membership_id: int
    membership_level: int


@dataclass(slots=True)
class Principal:
    key: PersonalAPIKey  # detached; read-only (last_used_at is written with an UPDATE)
    user: User  # detached
    expires: float
    projects: dict[str, ProjectAccess] = field(default_factory=dict)  # by the path's `project_id`
    _loading: dict[str, asyncio.Future[ProjectAccess | None]] = field(default_factory=dict)

    async def load_project(self, raw: str, load: Callable[[], Awaitable[ProjectAccess]]) -> ProjectAccess:
        """The project access for the path's `project_id`, loaded once by concurrent misses."""
        access = self.projects.get(raw)
        if access is None:
            access = await _shared(self._loading, raw, load)
            self.projects[raw] = access
        return access


class PrincipalCache:
    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, Principal] = {}
        self._loading: dict[str, asyncio.Future[Principal | None]] = {}

    def get(self, secure_value: str) -> Principal | None:
        principal = self._entries.get(secure_value)
        if principal is not None and principal.expires < time.monotonic():
            del self._entries[secure_value]
            return None
        return principal

    def put(self, secure_value: str, key: PersonalAPIKey, user: User) -> Principal:
        principal = Principal(key, user, time.monotonic() + self.ttl)
        if self.ttl > 0:
            if len(self._entries) >= self.max_entries:
                # Oldest first (insertion order): under a flood of keys the cache stays bounded.
                del self._entries[next(iter(self._entries))]
            self._entries[secure_value] = principal
        return principal

    async def load(self, secure_value: str, load: Callable[[], Awaitable[Principal]]) -> Principal:
        """The cached principal, or `load()` (which `put`s it) run once by concurrent misses."""
        principal = self.get(secure_value)
        return principal if principal is not None else await _shared(self._loading, secure_value, load)

    def discard(self, secure_value: str) -> None:
        self._entries.pop(secure_value, None)

    def clear(self) -> None:
        self._entries.clear()
