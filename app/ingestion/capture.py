"""The capture endpoints' rules: decode, authenticate by project token, normalize, ingest.

Every check that can reject a request runs before anything is written, so a rejected request
stores nothing: decoding (400), the token (401), then every event's shape (400).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from asyncpg import exceptions as pg_errors
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.errors import APIError, ValidationError
from app.ingestion.events import normalize_events
from app.ingestion.group_commit import GroupCommitter
from app.ingestion.payload import capture_batch, decode_body
from app.repositories import identity

TOKEN_TTL_SECONDS = 60.0


class InvalidToken(APIError):
    status_code = 401
    type = "authentication_error"
    code = "invalid_api_key"
    default_detail = "Project API key invalid. You can find your project API key in PostHog project settings."


@dataclass
class TokenCache:
    """Project token → project id, remembered briefly so a busy SDK doesn't cost a lookup per request."""

    sessionmaker: async_sessionmaker[AsyncSession]
    ttl: float = TOKEN_TTL_SECONDS

    def __post_init__(self) -> None:
        self._known: dict[str, tuple[int, float]] = {}

    async def project_id(self, token: str) -> int | None:
        hit = self._known.get(token)
        if hit and hit[1] > time.monotonic():
            return hit[0]
        async with self.sessionmaker() as session:
            project = await identity.get_project_by_token(session, token)
        if project is None:
            self._known.pop(token, None)
            return None
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[token] = (project.id, time.monotonic() + self.ttl)
        return project.id


@dataclass(frozen=True, slots=True)
class CaptureRequest:
    body: bytes
    query: Mapping[str, str]
    content_type: str
    content_encoding: str
    ip: str | None
    received_at: datetime


async def capture(
    request: CaptureRequest, *, tokens: TokenCache, committer: GroupCommitter, max_bytes: int
) -> None:
    """Returns once the request's events are committed (with other requests' events, see group_commit)."""
    payload = decode_body(
        request.body,
        query=request.query,
        content_type=request.content_type,
        content_encoding=request.content_encoding,
        max_bytes=max_bytes,
    )
    batch = capture_batch(payload, request.query)
    project_id = await tokens.project_id(batch.token)
    if project_id is None:
        raise InvalidToken()
    events = normalize_events(batch.events, now=request.received_at, sent_at=batch.sent_at, ip=request.ip)
    try:
        await committer.ingest(project_id, events)
    except pg_errors.DataError:
        # Nothing was stored (the batch's transaction rolled back); the client must fix the values.
        raise ValidationError(
            "An event holds a value that cannot be stored.", code="invalid_payload"
        ) from None
