"""Buckets as instant ranges: aggregating each bucket's own index range (a LATERAL subquery per
bucket) instead of computing a local-time bucket for every row and grouping by it. An index range
scan per bucket costs far less than timezone + date_trunc + hashing per event. Pure SQLAlchemy Core.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    Subquery,
    TableValuedAlias,
    column,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from app.query.dates import ResolvedRange, localize, step

Window = tuple[datetime, datetime, datetime]  # naive local bucket start, aware start, aware end

# Intervals whose buckets are scanned one by one (see `bucket_windows`). Minutes and hours keep
# `date_trunc`: in a DST fall-back a local minute happens twice, so no single window holds it.
WINDOWED_INTERVALS = ("day", "week", "month")


def bucket_windows(rng: ResolvedRange, starts: list[datetime] | None = None) -> list[Window]:
    """(bucket, start, end) of every bucket (of `starts`, consecutive buckets of the range's interval,
    by default the range's) as an instant range: an event is in the bucket whose window holds it,
    exactly as `date_trunc` of its local time says (a start skipped by a DST gap localizes to the
    moment the gap ends)."""
    starts = rng.buckets() if starts is None else starts
    return windows_of(starts, rng.interval, rng.tz)


def windows_of(starts: list[datetime], interval: str, tz: ZoneInfo) -> list[Window]:
    """Windows of consecutive local period starts of `interval` (see `bucket_windows`)."""
    ends = [*starts[1:], step(starts[-1], interval)] if starts else []
    return [(s, localize(s, tz), localize(e, tz)) for s, e in zip(starts, ends, strict=True)]


def windows_table(windows: list[Window]) -> TableValuedAlias:
    """`windows` as a derived table `w(bucket, window_start, window_end)` from three bound arrays."""
    return (
        func.unnest(
            literal([w[0] for w in windows], ARRAY(DateTime())),
            literal([w[1] for w in windows], ARRAY(DateTime(timezone=True))),
            literal([w[2] for w in windows], ARRAY(DateTime(timezone=True))),
        )
        .table_valued(
            column("bucket", DateTime()),
            column("window_start", DateTime(timezone=True)),
            column("window_end", DateTime(timezone=True)),
        )
        .render_derived(name="w")
    )


def per_bucket(
    windows: list[Window],
    rows: Subquery,
    columns: Sequence[ColumnElement[Any]],
    aggregates: Sequence[ColumnElement[Any]],
    where: Sequence[ColumnElement[bool]],
) -> Select[Any]:
    """`columns` and `aggregates` of `rows` per bucket, one index range scan per bucket; buckets
    without rows produce none (as grouping by bucket would)."""
    table = windows_table(windows)
    inside = (
        select(*columns, *aggregates)
        .where(rows.c.ts >= table.c.window_start, rows.c.ts < table.c.window_end, *where)
        .group_by(*columns)
    )
    if not columns:
        inside = inside.having(func.count() > 0)
    scanned = inside.lateral("in_bucket")
    names = [c.name for c in [*columns, *aggregates]]
    return select(table.c.bucket.label("bucket"), *(scanned.c[n] for n in names)).select_from(
        table.join(scanned, true())
    )
