"""Personal API keys: generation, hashing, request authentication and scope checks."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import orjson
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.errors import AuthenticationFailed, NotAuthenticated, PermissionDenied
from app.models import PersonalAPIKey, User
from app.models.base import utcnow
from app.principals import Principal, PrincipalCache
from app.repositories import identity

KEY_PREFIX = "phx_"
# PostHog throttles last_used_at writes to about once an hour per key.
LAST_USED_RESOLUTION = timedelta(hours=1)


def generate_personal_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key_value(value: str) -> str:
    return "sha256$" + hashlib.sha256(value.encode()).hexdigest()


def mask_key_value(value: str) -> str:
    return f"{value[:4]}...{value[-4:]}"


def has_scope(granted: list[str], required: str) -> bool:
    """`*` or an empty list (keys from before scopes existed) grant everything; write implies read."""
    if not granted or "*" in granted or required in granted:
        return True
    obj, _, action = required.partition(":")
    return action == "read" and f"{obj}:write" in granted


@dataclass(frozen=True, slots=True)
class AuthContext:
    user: User  # in the request's session; for a `ProjectReader`, the shared detached one (read-only)
    key: PersonalAPIKey  # detached, shared with other requests: read-only
    principal: Principal

    def require(self, scope: str) -> None:
        if not has_scope(self.key.scopes, scope):
            raise PermissionDenied(f"API key missing required scope '{scope}'")


async def _key_from_request(request: Request) -> tuple[str, str] | None:
    """The presented key and where it came from, in PostHog's order: header, query, body."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip(), "Authorization header"
    if value := request.query_params.get("personal_api_key"):
        return value, "query string"
    if request.method in ("POST", "PUT", "PATCH") and "json" in request.headers.get("content-type", ""):
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return None
        if isinstance(body, dict) and isinstance(value := body.get("personal_api_key"), str):
            return value, "body"
    return None


async def principal_for(
    request: Request, sessions: async_sessionmaker[AsyncSession], cache: PrincipalCache
) -> Principal:
    """The presented key's principal, from the cache or loaded in a short session of its own, so a
    request whose key is cached (nearly all) needs no session for authentication."""
    presented = await _key_from_request(request)
    if presented is None:
        raise NotAuthenticated(headers={"WWW-Authenticate": "Bearer"})
    value, source = presented
    secure_value = hash_key_value(value)

    async def load() -> Principal:
        async with sessions() as session:
            row = await identity.key_with_user(session, secure_value)
            if row is None:
                raise AuthenticationFailed(
                    f"Personal API key found in request {source} is invalid.",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            for loaded in row:
                session.expunge(loaded)
        return cache.put(secure_value, *row)

    principal = await cache.load(secure_value, load)
    now = utcnow()
    last_used = principal.key.last_used_at
    if last_used is None or now - last_used > LAST_USED_RESOLUTION:
        async with sessions() as session:
            await identity.touch_key(session, principal.key.id, now)
            await session.commit()
        cache.discard(secure_value)  # reloaded, with its new last_used_at, by the next request
    return principal


async def authenticate(request: Request, session: AsyncSession) -> AuthContext:
    """The request's key and user, the user merged into the request's session (no SQL)."""
    state = request.app.state
    principal = await principal_for(request, state.read_sessionmaker, state.principals)
    user = await session.merge(principal.user, load=False)
    return AuthContext(user=user, key=principal.key, principal=principal)
