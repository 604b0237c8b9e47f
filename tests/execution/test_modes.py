"""Parsing `refresh` per endpoint."""

from __future__ import annotations

import pytest

from app.errors import ValidationError
from app.execution.modes import (
    INSIGHT_MODES,
    ExecutionMode,
    for_query_endpoint,
    for_shared_access,
    parse_refresh,
)


@pytest.mark.parametrize("raw", ["true", "1", "yes", "", "TRUE", True])
def test_truthy_means_force_blocking(raw: str | bool) -> None:
    assert parse_refresh(raw, default=ExecutionMode.FORCE_CACHE) is ExecutionMode.FORCE_BLOCKING


@pytest.mark.parametrize("raw", ["false", "0", "no", None, False])
def test_falsy_means_default(raw: str | bool | None) -> None:
    assert parse_refresh(raw, default=ExecutionMode.FORCE_CACHE) is ExecutionMode.FORCE_CACHE


def test_insights_reject_async_except_on_cache_miss() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_refresh("async_except_on_cache_miss", default=ExecutionMode.FORCE_CACHE, allowed=INSIGHT_MODES)
    assert caught.value.attr == "refresh"
    with pytest.raises(ValidationError):
        parse_refresh("sometimes", default=ExecutionMode.FORCE_CACHE)


def test_query_endpoint_rules() -> None:
    assert for_query_endpoint(None, None) is ExecutionMode.BLOCKING
    assert for_query_endpoint("force_cache", None) is ExecutionMode.BLOCKING
    assert for_query_endpoint(None, True) is ExecutionMode.ASYNC
    assert for_query_endpoint("async_except_on_cache_miss", None) is ExecutionMode.ASYNC_EXCEPT_ON_CACHE_MISS


@pytest.mark.parametrize(
    ("requested", "old_enough", "expected"),
    [
        (ExecutionMode.FORCE_CACHE, False, ExecutionMode.LAZY_ASYNC),
        (ExecutionMode.FORCE_BLOCKING, True, ExecutionMode.FORCE_BLOCKING),
        (ExecutionMode.FORCE_BLOCKING, False, ExecutionMode.BLOCKING),
        (ExecutionMode.ASYNC, False, ExecutionMode.ASYNC),
        (ExecutionMode.FORCE_ASYNC, False, ExecutionMode.LAZY_ASYNC),
    ],
)
def test_shared_access_remaps(requested: ExecutionMode, old_enough: bool, expected: ExecutionMode) -> None:
    assert for_shared_access(requested, old_enough) is expected
