"""When a cached result is stale, and the timing fields derived from it (reference §1.10). Pure."""

from __future__ import annotations

from datetime import datetime, timedelta

# A fully historical range (date_to before last_refresh minus this) never goes stale.
HISTORICAL_MARGIN = timedelta(seconds=10)

_DEFAULT_THRESHOLDS: dict[str | None, timedelta | None] = {
    "second": None,
    "minute": timedelta(minutes=5),
    "hour": timedelta(hours=1),
    "day": timedelta(hours=6),
    "week": timedelta(days=1),
    "month": timedelta(days=1),
    "quarter": timedelta(days=1),
    "year": timedelta(days=1),
    None: timedelta(hours=6),
}
_LAZY_THRESHOLDS: dict[str | None, timedelta | None] = {
    **_DEFAULT_THRESHOLDS,
    "minute": timedelta(minutes=15),
    "hour": timedelta(hours=2),
    "day": timedelta(hours=12),
    None: timedelta(hours=12),
}
# Runners whose results are expensive enough that the UI waits longer between manual refreshes.
_SLOW_REFRESH_KINDS = {"TrendsQuery", "FunnelsQuery", "RetentionQuery", "LifecycleQuery"}


def staleness_threshold(interval: str | None, *, lazy: bool = False) -> timedelta | None:
    """How long a result stays fresh; None means never stale."""
    table = _LAZY_THRESHOLDS if lazy else _DEFAULT_THRESHOLDS
    return table.get(interval, table[None])


def is_stale(
    *,
    last_refresh: datetime,
    now: datetime,
    date_to: datetime | None,
    interval: str | None,
    lazy: bool = False,
) -> bool:
    if date_to is not None and date_to < last_refresh - HISTORICAL_MARGIN:
        return False
    threshold = staleness_threshold(interval, lazy=lazy)
    return threshold is not None and now - last_refresh > threshold


def cache_target_age(
    last_refresh: datetime, interval: str | None, date_to: datetime | None
) -> datetime | None:
    """The moment the result becomes stale (None when it never does)."""
    if date_to is not None and date_to < last_refresh - HISTORICAL_MARGIN:
        return None
    threshold = staleness_threshold(interval)
    return None if threshold is None else last_refresh + threshold


def min_refresh_interval(kind: str, interval: str | None, range_days: float | None) -> timedelta:
    if kind not in _SLOW_REFRESH_KINDS:
        return timedelta(minutes=1)
    if interval in ("second", "minute", "hour") or (range_days is not None and range_days <= 7):
        return timedelta(minutes=3)
    return timedelta(minutes=15)


def next_allowed_client_refresh(
    last_refresh: datetime, kind: str, interval: str | None, range_days: float | None
) -> datetime:
    return last_refresh + min_refresh_interval(kind, interval, range_days)
