"""A short-lived, per-process cache of authenticated personal API keys and the projects they opened.

Authentication and project access cost four queries per request otherwise (key + user, project,
membership twice), which dominated cheap reads such as a cached insight. Entries hold *detached* ORM
objects, never attached to a session: each request merges its own copies (`load=False`, no SQL).

Freshness bound: an entry lives `ttl` seconds. Deleting a key through this process drops it at once
and updating a project clears the cache; anything else (a key deleted through another process, a
lost membership, a changed `current_project_id`) takes effect within `ttl` seconds. Only successful
lookups are cached: unknown keys, 403s and 404s are always decided by the database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from app.models import PersonalAPIKey, Project, User


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


class PrincipalCache:
    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, Principal] = {}

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

    def discard(self, secure_value: str) -> None:
        self._entries.pop(secure_value, None)

    def clear(self) -> None:
        self._entries.clear()
