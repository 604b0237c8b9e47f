"""Plain-Python oracles for stickiness and lifecycle, independent of the engine.

Calendar arithmetic is written out here (local wall-clock time, naive datetimes) rather than imported
from `app.query.dates`, so a result test compares two separate computations.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.factories.events import EventRow

STATUSES = ("new", "returning", "resurrecting", "dormant")


def local(ts: datetime, tz: str) -> datetime:
    return ts.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def start_of(value: datetime, interval: str, week_start_day: int = 0) -> datetime:
    """Start of the local interval containing a naive local time (weeks: 0 = Sunday, 1 = Monday)."""
    if interval == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    day = value.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "day":
        return day
    if interval == "week":
        days_back = (value.isoweekday() % 7) if week_start_day == 0 else value.weekday()
        return day - timedelta(days=days_back)
    assert interval == "month"
    return day.replace(day=1)


def next_start(value: datetime, interval: str) -> datetime:
    if interval == "hour":
        return value + timedelta(hours=1)
    if interval == "day":
        return value + timedelta(days=1)
    if interval == "week":
        return value + timedelta(days=7)
    return (value.replace(day=28) + timedelta(days=4)).replace(day=1)


def calendar(first: datetime, last: datetime, interval: str, week_start_day: int = 0) -> list[datetime]:
    """Every interval start from the one containing `first` to the one containing `last`."""
    current, end = start_of(first, interval, week_start_day), start_of(last, interval, week_start_day)
    found = []
    while current <= end:
        found.append(current)
        current = next_start(current, interval)
    return found


def whole_intervals_between(earlier: datetime, later: datetime, interval: str) -> int:
    """Complete intervals from `earlier` to `later` (ClickHouse's `age`), on naive local times."""
    if interval == "month":
        months = (later.year - earlier.year) * 12 + later.month - earlier.month
        if (later.day, later.time()) < (earlier.day, earlier.time()):
            months -= 1
        return months
    unit = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}[interval]
    return (later - earlier) // unit


@dataclass(frozen=True)
class Window:
    """A query's resolved range in naive local time, plus how to bucket it."""

    tz: str
    interval: str
    local_from: datetime
    local_to: datetime
    week_start_day: int = 0

    @property
    def buckets(self) -> list[datetime]:
        return calendar(self.local_from, self.local_to, self.interval, self.week_start_day)

    def bucket(self, ts: datetime) -> datetime:
        return start_of(local(ts, self.tz), self.interval, self.week_start_day)

    @property
    def events_from(self) -> datetime:
        """PostHog counts the whole first month of a monthly range (but not the whole first week)."""
        return self.buckets[0] if self.interval == "month" else self.local_from

    def contains(self, ts: datetime) -> bool:
        return self.events_from <= local(ts, self.tz) <= self.local_to


Criteria = tuple[str, int] | None
_CRITERIA: dict[str, Callable[[int, int], bool]] = {
    "gte": lambda n, v: n >= v,
    "lte": lambda n, v: n <= v,
    "exact": lambda n, v: n == v,
}


def stickiness(
    events: Iterable[EventRow],
    window: Window,
    *,
    interval_count: int | None = None,
    criteria: Criteria = None,
    cumulative: bool = False,
) -> tuple[list[float], float]:
    """(data, count): how many persons were active in exactly (or, cumulative, at least) k periods.

    Without `intervalCount` a period is a calendar interval; with it, PostHog counts whole intervals back
    from the end of the range and groups `intervalCount` of them into one period.
    """
    periods = math.ceil(len(window.buckets) / (interval_count or 1))
    per_person: dict[uuid.UUID, Counter[object]] = defaultdict(Counter)
    for e in events:
        if e.person is None or not window.contains(e.timestamp):
            continue
        if interval_count is None:
            key: object = window.bucket(e.timestamp)
        else:
            back = whole_intervals_between(local(e.timestamp, window.tz), window.local_to, window.interval)
            key = back // interval_count
        per_person[e.person][key] += 1
    data = [0.0] * periods
    for counts in per_person.values():
        active = sum(1 for n in counts.values() if criteria is None or _CRITERIA[criteria[0]](n, criteria[1]))
        if active:
            data[active - 1] += 1
    total = sum(data)
    if cumulative:
        data = [sum(data[i:]) for i in range(len(data))]
    return data, total


def lifecycle(events: Iterable[EventRow], window: Window) -> dict[str, list[float]]:
    """Per status, one number per bucket; "new" means the person's first matching event ever."""
    rows = [e for e in events if e.person is not None and local(e.timestamp, window.tz) <= window.local_to]
    first_bucket: dict[uuid.UUID, datetime] = {}
    active: dict[uuid.UUID, set[datetime]] = defaultdict(set)
    for e in sorted(rows, key=lambda e: e.timestamp):
        assert e.person is not None
        first_bucket.setdefault(e.person, window.bucket(e.timestamp))
        active[e.person].add(window.bucket(e.timestamp))
    buckets = window.buckets
    previous_of = {b: _previous(b, window) for b in buckets}
    result = {status: [0.0] * len(buckets) for status in STATUSES}
    for person, periods in active.items():
        for i, b in enumerate(buckets):
            before = previous_of[b]
            if b in periods:
                if first_bucket[person] == b:
                    result["new"][i] += 1
                elif before in periods:
                    result["returning"][i] += 1
                else:
                    result["resurrecting"][i] += 1
            elif before in periods:
                result["dormant"][i] -= 1
    return result


def _previous(bucket: datetime, window: Window) -> datetime:
    """The interval start just before `bucket` (walk back a day and truncate)."""
    if window.interval == "hour":
        return bucket - timedelta(hours=1)
    return start_of(bucket - timedelta(days=1), window.interval, window.week_start_day)
