"""A plain-Python retention table over the same event rows, from the documented semantics
(app/query/kinds/retention.py): calendar periods in the project's timezone, cohorts by target
event, returns by period offset."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.factories.events import EventRow

Matcher = Callable[[EventRow], bool]
OTHER = "$$_posthog_breakdown_other_$$"


def period_start(ts: datetime, period: str, tz: str, week_start_day: int = 0) -> datetime:
    local = ts.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    if period == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day
    if period == "week":
        back = (day.weekday() + 1) % 7 if week_start_day == 0 else day.weekday()
        return day - timedelta(days=back)
    return day.replace(day=1)


def shift(start: datetime, period: str, count: int) -> datetime:
    if period == "hour":
        return start + timedelta(hours=count)
    if period == "day":
        return start + timedelta(days=count)
    if period == "week":
        return start + timedelta(weeks=count)
    months = start.year * 12 + start.month - 1 + count
    return start.replace(year=months // 12, month=months % 12 + 1)


@dataclass
class Retention:
    target: Matcher
    returning: Matcher
    period: str = "day"
    total: int = 8
    retention_type: str = "retention_recurring"
    target_kind: Matcher | None = None  # first_ever_occurrence: the target without its filters
    cumulative: bool = False
    minimum_occurrences: int = 1
    breakdown: str | None = None
    breakdown_limit: int = 25
    tz: str = "UTC"
    week_start_day: int = 0


def starts(r: Retention, date_to: datetime) -> list[datetime]:
    last = period_start(date_to, r.period, r.tz, r.week_start_day)
    return [shift(last, r.period, i - r.total + 1) for i in range(r.total)]


def _local_index(r: Retention, cohort_starts: list[datetime], ts: datetime) -> int | None:
    start = period_start(ts, r.period, r.tz, r.week_start_day)
    return cohort_starts.index(start) if start in cohort_starts else None


def table(r: Retention, events: Sequence[EventRow], date_to: datetime) -> dict[str, list[list[int]]]:
    """{breakdown value: rows of counts}; without breakdown the only value is ""."""
    cohort_starts = starts(r, date_to)
    upper = cohort_starts[-1]
    actors: dict[tuple[Any, str], list[EventRow]] = defaultdict(list)
    for e in events:
        if e.person is None:
            continue
        value = e.properties.get(r.breakdown) if r.breakdown else ""
        actors[(e.person, "" if value is None else str(value))].append(e)
    cells: dict[str, list[list[int]]] = {}
    for (_, value), evs in actors.items():
        evs = [e for e in evs if period_start(e.timestamp, r.period, r.tz, r.week_start_day) <= upper]
        cohorts = _cohorts(r, cohort_starts, evs)
        counts: dict[int, int] = defaultdict(int)
        for e in evs:
            if r.returning(e) and (i := _local_index(r, cohort_starts, e.timestamp)) is not None:
                counts[i] += 1
        returned = {i for i, n in counts.items() if n >= r.minimum_occurrences}
        grid = cells.setdefault(value, [[0] * (r.total - i) for i in range(r.total)])
        for c in cohorts:
            later = [i - c for i in returned if i > c]
            if r.cumulative:
                for k in range(max(later, default=0) + 1):
                    grid[c][k] += 1
            else:
                grid[c][0] += 1
                for k in later:
                    grid[c][k] += 1
    return cells


def _cohorts(r: Retention, cohort_starts: list[datetime], evs: list[EventRow]) -> set[int]:
    if r.retention_type == "retention_recurring":
        return {
            i for e in evs if r.target(e) and (i := _local_index(r, cohort_starts, e.timestamp)) is not None
        }
    if r.retention_type == "retention_first_time":
        matching = [e for e in evs if r.target(e)]
    else:
        assert r.target_kind is not None
        kind = sorted((e for e in evs if r.target_kind(e)), key=lambda e: e.timestamp)
        first_ts = kind[0].timestamp if kind else None
        matching = (
            [e for e in kind if e.timestamp == first_ts]
            if any(r.target(e) for e in kind if e.timestamp == first_ts)
            else []
        )
    if not matching:
        return set()
    first = min(matching, key=lambda e: e.timestamp)
    index = _local_index(r, cohort_starts, first.timestamp)
    return set() if index is None else {index}


def ranked(r: Retention, cells: dict[str, list[list[int]]]) -> list[tuple[str, list[list[int]]]]:
    order = sorted(cells, key=lambda v: (-sum(row[0] for row in cells[v]), v))
    kept, rest = order[: r.breakdown_limit], order[r.breakdown_limit :]
    result = [(v, cells[v]) for v in kept]
    if rest:
        merged = [[sum(cells[v][i][k] for v in rest) for k in range(r.total - i)] for i in range(r.total)]
        result.append((OTHER, merged))
    return result
