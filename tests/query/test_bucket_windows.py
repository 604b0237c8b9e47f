"""`windows.bucket_windows`: instant ranges that hold exactly the events `date_trunc` of local time
puts in each bucket, across DST changes (including ones at midnight)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.query import dates
from app.query.ir import DateRangeSpec
from app.query.windows import bucket_windows

MICROSECOND = timedelta(microseconds=1)


def _local_bucket(instant: datetime, rng: dates.ResolvedRange) -> datetime:
    return rng.truncate(instant.astimezone(rng.tz).replace(tzinfo=None))


@pytest.mark.parametrize(
    ("timezone", "date_from", "date_to"),
    [
        ("UTC", "2024-03-01", "2024-03-31"),
        ("Europe/Berlin", "2024-03-20", "2024-11-05"),  # 02:00 → 03:00 and back
        ("America/Santiago", "2024-03-30", "2024-09-12"),  # midnight skipped and repeated
        ("America/Havana", "2024-03-05", "2024-11-10"),  # midnight DST
        ("Asia/Kolkata", "2024-01-01", "2024-03-01"),
    ],
)
@pytest.mark.parametrize("interval", ["day", "week", "month"])
def test_windows_partition_time_as_date_trunc_does(
    timezone: str, date_from: str, date_to: str, interval: dates.Interval
) -> None:
    rng = dates.resolve(
        DateRangeSpec(date_from, date_to),
        interval=interval,
        now=datetime(2025, 1, 1, tzinfo=UTC),
        timezone=timezone,
        week_start_day=0,
    )
    windows = bucket_windows(rng)
    assert [w[0] for w in windows] == rng.buckets()
    for (bucket, start, end), following in zip(windows, [*windows[1:], None], strict=True):
        assert start < end
        assert _local_bucket(start, rng) == bucket
        assert _local_bucket(end.astimezone(UTC) - MICROSECOND, rng) == bucket  # instant arithmetic
        if following is not None:
            assert following[1] == end  # contiguous: every instant is in exactly one window
    assert windows[0][1] <= rng.events_from
    assert windows[-1][2] > rng.date_to
