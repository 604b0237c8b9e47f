"""Date range resolution (pure): expected bounds worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.errors import ValidationError
from app.query.dates import resolve
from app.query.ir import DateRangeSpec

NOW = datetime(2024, 3, 14, 15, 30, tzinfo=UTC)  # Thursday


def bounds(
    date_from: str | None,
    date_to: str | None = None,
    *,
    tz: str = "UTC",
    interval: str = "day",
    explicit: bool = False,
    week_start_day: int = 0,
) -> tuple[str, str]:
    rng = resolve(
        DateRangeSpec(date_from, date_to, explicit),
        interval=interval,  # type: ignore[arg-type]
        now=NOW,
        timezone=tz,
        week_start_day=week_start_day,
    )
    return rng.date_from.isoformat(), rng.date_to.isoformat()


class TestResolve:
    @pytest.mark.parametrize(
        ("date_from", "expected_from"),
        [
            ("-7d", "2024-03-07T00:00:00+00:00"),
            ("-24h", "2024-03-13T00:00:00+00:00"),
            ("-2w", "2024-02-29T00:00:00+00:00"),
            ("-1m", "2024-02-14T00:00:00+00:00"),
            ("-1y", "2023-03-14T00:00:00+00:00"),
            ("dStart", "2024-03-14T00:00:00+00:00"),
            ("mStart", "2024-03-01T00:00:00+00:00"),
            ("yStart", "2024-01-01T00:00:00+00:00"),
            ("-1mStart", "2024-02-01T00:00:00+00:00"),
            ("2024-01-05", "2024-01-05T00:00:00+00:00"),
            ("2024-01-05T10:20:00Z", "2024-01-05T00:00:00+00:00"),
        ],
    )
    def test_date_from_forms(self, date_from: str, expected_from: str) -> None:
        assert bounds(date_from) == (expected_from, "2024-03-14T23:59:59.999999+00:00")

    def test_hourly_keeps_hours(self) -> None:
        assert bounds("-24h", interval="hour") == (
            "2024-03-13T15:00:00+00:00",
            "2024-03-14T15:59:59.999999+00:00",
        )

    def test_explicit_date_keeps_times(self) -> None:
        assert bounds("2024-03-01T10:00:00Z", "2024-03-02T11:30:00Z", explicit=True) == (
            "2024-03-01T10:00:00+00:00",
            "2024-03-02T11:30:00+00:00",
        )

    def test_absolute_date_to_is_end_of_that_day(self) -> None:
        assert bounds("2024-01-01", "2024-01-31") == (
            "2024-01-01T00:00:00+00:00",
            "2024-01-31T23:59:59.999999+00:00",
        )

    def test_project_timezone(self) -> None:
        # 15:30 UTC is 21:00 in Kolkata and 08:30 (PDT) in Los Angeles.
        assert bounds("dStart", tz="Asia/Kolkata") == (
            "2024-03-14T00:00:00+05:30",
            "2024-03-14T23:59:59.999999+05:30",
        )
        assert bounds("-7d", tz="America/Los_Angeles") == (
            "2024-03-07T00:00:00-08:00",  # before the DST change: PST
            "2024-03-14T23:59:59.999999-07:00",
        )

    def test_week_start_day(self) -> None:
        assert bounds("wStart", week_start_day=0)[0] == "2024-03-10T00:00:00+00:00"  # Sunday
        assert bounds("wStart", week_start_day=1)[0] == "2024-03-11T00:00:00+00:00"  # Monday

    def test_all_uses_the_first_event(self) -> None:
        rng = resolve(
            DateRangeSpec("all"),
            interval="day",
            now=NOW,
            timezone="UTC",
            week_start_day=0,
            first_event=datetime(2023, 5, 2, 8, tzinfo=UTC),
        )
        assert rng.date_from.isoformat() == "2023-05-02T00:00:00+00:00"

    def test_default_range_has_eight_daily_buckets(self) -> None:
        rng = resolve(DateRangeSpec(), interval="day", now=NOW, timezone="UTC", week_start_day=0)
        assert len(rng.buckets()) == 8

    def test_spring_forward_hour_has_no_bucket(self) -> None:
        rng = resolve(
            DateRangeSpec("2024-03-10T00:00:00", "2024-03-10T04:00:00", True),
            interval="hour",
            now=NOW,
            timezone="America/Los_Angeles",
            week_start_day=0,
        )
        assert [b.hour for b in rng.buckets()] == [0, 1, 3, 4]

    @pytest.mark.parametrize(
        "bad", ["yesterday", "-7x", "2024-13-01", "9999999d", "'; drop table events; --"]
    )
    def test_invalid_dates_are_400s(self, bad: str) -> None:
        with pytest.raises(ValidationError) as error:
            bounds(bad)
        assert error.value.attr == "dateRange__date_from"

    def test_too_many_buckets(self) -> None:
        with pytest.raises(ValidationError) as error:
            resolve(
                DateRangeSpec("-1y"), interval="minute", now=NOW, timezone="UTC", week_start_day=0
            ).buckets()
        assert error.value.attr == "interval"
