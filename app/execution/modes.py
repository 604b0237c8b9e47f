"""PostHog's `refresh` values (ExecutionMode) and how each endpoint parses them."""

from __future__ import annotations

from enum import StrEnum

from app.errors import ValidationError


class ExecutionMode(StrEnum):
    FORCE_BLOCKING = "force_blocking"
    FORCE_ASYNC = "force_async"
    BLOCKING = "blocking"
    ASYNC = "async"
    LAZY_ASYNC = "lazy_async"
    ASYNC_EXCEPT_ON_CACHE_MISS = "async_except_on_cache_miss"
    FORCE_CACHE = "force_cache"


TRUE_VALUES = {"true", "1", "yes", ""}
FALSE_VALUES = {"false", "0", "no"}
INSIGHT_MODES = frozenset(ExecutionMode) - {ExecutionMode.ASYNC_EXCEPT_ON_CACHE_MISS}


def parse_refresh(
    raw: str | bool | None,
    *,
    default: ExecutionMode,
    allowed: frozenset[ExecutionMode] = frozenset(ExecutionMode),
) -> ExecutionMode:
    """`true`/`1`/`yes`/empty → force_blocking; `false`/`0`/`no`/absent → the endpoint's default."""
    if raw is None or raw is False:
        return default
    if raw is True:
        return ExecutionMode.FORCE_BLOCKING
    value = raw.strip().lower()
    if value in TRUE_VALUES:
        return ExecutionMode.FORCE_BLOCKING
    if value in FALSE_VALUES:
        return default
    try:
        mode = ExecutionMode(value)
    except ValueError:
        mode = None
    if mode is None or mode not in allowed:
        choices = ", ".join(sorted(m.value for m in allowed))
        raise ValidationError(
            f'"{raw}" is not a valid choice. Use one of: {choices}.', code="invalid_choice", attr="refresh"
        )
    return mode


def for_query_endpoint(raw: str | bool | None, legacy_async: bool | None) -> ExecutionMode:
    """`/query/` defaults to blocking, upgrades `force_cache` to blocking, and maps `async: true`."""
    if legacy_async and raw is None:
        return ExecutionMode.ASYNC
    mode = parse_refresh(raw, default=ExecutionMode.BLOCKING)
    return ExecutionMode.BLOCKING if mode is ExecutionMode.FORCE_CACHE else mode


def for_shared_access(mode: ExecutionMode, cached_age_ok_for_force: bool) -> ExecutionMode:
    """Sharing-token requests can't force expensive work (reference §1.9)."""
    if mode is ExecutionMode.FORCE_CACHE:
        return ExecutionMode.LAZY_ASYNC
    if mode is ExecutionMode.FORCE_BLOCKING:
        return ExecutionMode.FORCE_BLOCKING if cached_age_ok_for_force else ExecutionMode.BLOCKING
    if mode in (ExecutionMode.ASYNC, ExecutionMode.BLOCKING):
        return mode
    return ExecutionMode.LAZY_ASYNC
