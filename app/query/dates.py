"""Date ranges: PostHog's relative and absolute date strings resolved in the project's timezone.

Pure: `now` and the project's first event time are passed in, the clock is never read. Buckets are
computed in *local wall-clock time* (naive datetimes in the project's timezone) and only converted to
UTC at the edges, so a day is always a calendar day, including across DST changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.errors import ValidationError
from app.query.ir import DateRangeSpec, Interval

MAX_BUCKETS = 20_000
RELATIVE = re.compile(r"^(?P<number>[-+]?\d{1,5})?(?P<unit>[hdwmqyMs])(?P<position>Start|End)?$")
_FIXED_UNITS = {"s": timedelta(seconds=1), "M": timedelta(minutes=1), "h": timedelta(hours=1)}
_STEP = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def add_months(value: datetime, months: int) -> datetime:
    index = value.year * 12 + value.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise OverflowError("year out of range")
    first_next = (
        date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1) if year < 9999 or month < 11 else None
    )
    last_day = (first_next - timedelta(days=1)).day if first_next else 31
    return value.replace(year=year, month=month + 1, day=min(value.day, last_day))


def truncate(value: datetime, unit: str, week_start_day: int) -> datetime:
    """Start of the local period containing `value` (naive local time in, naive local time out)."""
    if unit == "minute":
        return value.replace(second=0, microsecond=0)
    if unit == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    midnight = datetime.combine(value.date(), time())
    if unit == "day":
        return midnight
    if unit == "week":
        # Python: Monday = 0. PostHog: week_start_day 0 = Sunday, 1 = Monday.
        offset = (value.weekday() + (1 if week_start_day == 0 else 0)) % 7
        return midnight - timedelta(days=offset)
    if unit == "month":
        return midnight.replace(day=1)
    if unit == "quarter":
        return midnight.replace(day=1, month=(value.month - 1) // 3 * 3 + 1)
    return midnight.replace(day=1, month=1)  # year


def step(value: datetime, unit: str, count: int = 1) -> datetime:
    if unit in _STEP:
        return value + _STEP[unit] * count
    if unit == "week":
        return value + timedelta(weeks=count)
    if unit == "quarter":
        return add_months(value, 3 * count)
    if unit == "year":
        return add_months(value, 12 * count)
    return add_months(value, count)


def localize(value: datetime, tz: ZoneInfo) -> datetime:
    """Naive local time → aware; nonexistent times (DST gap) resolve forward as zoneinfo does."""
    return value.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


def exists_locally(value: datetime, tz: ZoneInfo) -> bool:
    return localize(value, tz).replace(tzinfo=None) == value


_UNIT_NAMES = {
    "s": "second",
    "M": "minute",
    "h": "hour",
    "d": "day",
    "w": "week",
    "m": "month",
    "q": "quarter",
    "y": "year",
}


def _relative(text: str, now_local: datetime, week_start_day: int) -> datetime | None:
    match = RELATIVE.match(text)
    if not match:
        return None
    number = int(match.group("number") or 0)
    unit = match.group("unit")
    name = _UNIT_NAMES[unit]
    if unit in _FIXED_UNITS:
        moved = now_local + _FIXED_UNITS[unit] * number
    elif unit in ("d", "w"):
        moved = now_local + timedelta(days=number * (7 if unit == "w" else 1))
    else:
        moved = step(now_local, name, number)
    position = match.group("position")
    if position == "Start":
        return truncate(moved, name, week_start_day) if name not in ("second",) else moved
    if position == "End":
        return step(truncate(moved, name, week_start_day), name) - timedelta(microseconds=1)
    return moved


def parse_date(
    text: str, now_local: datetime, tz: ZoneInfo, week_start_day: int, attr: str
) -> tuple[datetime, bool]:
    """(naive local datetime, whether the text named a date without a time)."""
    value = text.strip()
    try:
        relative = _relative(value, now_local, week_start_day)
        if relative is not None:
            return relative, False
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return datetime.combine(date.fromisoformat(value), time()), True
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise ValidationError(f"Invalid date: {value[:50]!r}.", attr=attr) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(tz).replace(tzinfo=None)
    return parsed, False


def _granularity(interval: Interval) -> str:
    return interval if interval in ("minute", "hour") else "day"


@dataclass(frozen=True, slots=True)
class ResolvedRange:
    date_from: datetime  # aware, in the project's timezone
    date_to: datetime  # aware, inclusive upper bound
    interval: Interval
    timezone: str
    week_start_day: int
    interval_count: int = 1
    explicit: bool = False

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    @property
    def local_from(self) -> datetime:
        return self.date_from.astimezone(self.tz).replace(tzinfo=None)

    @property
    def local_to(self) -> datetime:
        return self.date_to.astimezone(self.tz).replace(tzinfo=None)

    def truncate(self, value: datetime) -> datetime:
        return truncate(value, self.interval, self.week_start_day)

    def buckets(self) -> list[datetime]:
        """Naive local starts of every interval from date_from's to date_to's, inclusive."""
        current, last = self.truncate(self.local_from), self.truncate(self.local_to)
        result: list[datetime] = []
        tz, sub_daily = self.tz, self.interval in ("minute", "hour")
        while current <= last:
            # Wall-clock hours skipped by a DST change have no events and no bucket.
            if not sub_daily or exists_locally(current, tz):
                result.append(current)
            if len(result) > MAX_BUCKETS:
                raise ValidationError(
                    "Too many intervals for this date range; use a larger interval.", attr="interval"
                )
            current = step(current, self.interval)
        return result

    @property
    def events_from(self) -> datetime:
        """Where events start counting. As PostHog, a monthly range counts its whole first month (a
        weekly one does not count its whole first week) unless the dates are explicit."""
        if self.interval == "month" and not self.explicit:
            return localize(self.truncate(self.local_from), self.tz)
        return self.date_from

    def bucket_end(self, start: datetime) -> datetime:
        return step(start, self.interval)

    @property
    def days(self) -> float:
        return (self.date_to - self.date_from).total_seconds() / 86400

    def to_json(self) -> dict[str, str]:
        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()}

    def shifted(self, compare_to: str | None) -> ResolvedRange:
        """The previous period: `compare_to` earlier (e.g. -1w), or as many intervals as this one."""
        if compare_to:
            match = RELATIVE.match(compare_to)
            assert match is not None  # validated by the normalizer
            number, unit = abs(int(match.group("number") or 1)), _UNIT_NAMES[match.group("unit")]
            if unit == "day":
                number, unit = number, "day"
            local_from, local_to = step(self.local_from, unit, -number), step(self.local_to, unit, -number)
        else:
            count = len(self.buckets())
            local_from = step(self.local_from, self.interval, -count)
            local_to = step(self.local_to, self.interval, -count)
        tz = self.tz
        return ResolvedRange(
            localize(local_from, tz),
            localize(local_to, tz),
            self.interval,
            self.timezone,
            self.week_start_day,
            self.interval_count,
            self.explicit,
        )


def needs_first_event(spec: DateRangeSpec) -> bool:
    return (spec.date_from or "").strip() == "all"


def resolve(
    spec: DateRangeSpec,
    *,
    interval: Interval,
    now: datetime,
    timezone: str,
    week_start_day: int,
    first_event: datetime | None = None,
    default_from: str = "-7d",
) -> ResolvedRange:
    """date_from/date_to strings → aware bounds. Unless `explicitDate`, the range is widened to whole
    periods of the interval's granularity (days for day/week/month), as PostHog does."""
    tz = zone(timezone)
    now_local = now.astimezone(tz).replace(tzinfo=None)
    granularity = _granularity(interval)
    raw_from = (spec.date_from or default_from).strip()
    if raw_from == "all":
        start = first_event.astimezone(tz).replace(tzinfo=None) if first_event else now_local
    else:
        start, _ = parse_date(raw_from, now_local, tz, week_start_day, "dateRange__date_from")
    if spec.date_to:
        end, _ = parse_date(spec.date_to, now_local, tz, week_start_day, "dateRange__date_to")
    else:
        end = now_local
    try:
        if not spec.explicit:
            start = truncate(start, granularity, week_start_day)
            end = step(truncate(end, granularity, week_start_day), granularity) - timedelta(microseconds=1)
        date_from, date_to = localize(start, tz), localize(end, tz)
    except (OverflowError, ValueError):
        raise ValidationError("Date out of range.", attr="dateRange") from None
    if date_from > date_to:
        raise ValidationError("date_from must be before date_to.", attr="dateRange__date_from")
    return ResolvedRange(date_from, date_to, interval, timezone, week_start_day, explicit=spec.explicit)
