"""A plain-Python funnel, written from the documented semantics (app/query/kinds/funnels.py), never
from the SQL: per actor, sort the events, walk every entry step by step, keep the best one.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tests.factories.events import EventRow

Matcher = Callable[[EventRow], bool]
NULL = "$$_posthog_breakdown_null_$$"
OTHER = "$$_posthog_breakdown_other_$$"


def event_is(name: str, **props: Any) -> Matcher:
    return lambda e: e.event == name and all(e.properties.get(k) == v for k, v in props.items())


@dataclass
class Funnel:
    steps: list[Matcher]
    window: timedelta = timedelta(days=14)
    order: str = "ordered"
    exclusions: list[tuple[Matcher, int, int]] = field(default_factory=list)
    date_from: datetime | None = None
    date_to: datetime | None = None
    breakdown: str | None = None  # an event property
    attribution: str = "first_touch"
    attribution_step: int = 0
    breakdown_limit: int = 25


@dataclass
class Run:
    depth: int
    times: list[datetime]
    entry: datetime
    value: str | None = None


def _value(event: EventRow, key: str) -> str:
    raw = event.properties.get(key)
    if raw is None or raw == "":
        return NULL
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def _flags(f: Funnel, e: EventRow) -> list[bool]:
    return [m(e) for m in f.steps]


def _first_step(flags: list[bool]) -> float:
    return next((i for i, hit in enumerate(flags) if hit), float("inf"))


Walk = tuple[int, list[datetime | None], bool]  # steps reached, when each step was reached, excluded


def _walk_ordered(f: Funnel, evs: list[EventRow], flags: list[list[bool]], i: int) -> Walk:
    n, deadline = len(f.steps), evs[i].timestamp + f.window
    rows = [i]
    for k in range(1, n):
        if f.order == "strict":
            j = rows[-1] + 1
            found = j if j < len(evs) and flags[j][k] else None
        else:
            found = next((j for j in range(rows[-1] + 1, len(evs)) if flags[j][k]), None)
        if found is None or evs[found].timestamp > deadline:
            break
        rows.append(found)
    times = [evs[r].timestamp for r in rows]
    excluded = False
    for match, start, end in f.exclusions:
        if len(rows) <= start:
            continue
        limit, inclusive = (times[end], False) if len(rows) > end else (deadline, True)
        for j in range(rows[start] + 1, len(evs)):
            ts = evs[j].timestamp
            if match(evs[j]) and (ts <= limit if inclusive else ts < limit):
                excluded = True
    return len(rows), [*times, *([None] * (n - len(rows)))], excluded


def _walk_unordered(f: Funnel, evs: list[EventRow], flags: list[list[bool]], i: int) -> Walk:
    deadline = evs[i].timestamp + f.window
    per_step: list[datetime | None] = []
    for k in range(len(f.steps)):
        hit = next((evs[j].timestamp for j in range(i, len(evs)) if flags[j][k]), None)
        per_step.append(hit if hit is not None and hit <= deadline else None)
    reached = [t for t in per_step if t is not None]
    done = len(reached) == len(f.steps)
    excluded = any(
        match(evs[j]) and (evs[j].timestamp < max(reached) if done else evs[j].timestamp <= deadline)
        for match, _, _ in f.exclusions
        for j in range(i + 1, len(evs))
    )
    return len(reached), per_step, excluded


def _best_run(f: Funnel, evs: list[EventRow], flags: list[list[bool]]) -> Run | None:
    """The entry reaching most steps, then not excluded, then finishing first, then the latest."""
    pairs = sorted(zip(evs, flags, strict=True), key=lambda p: (p[0].timestamp, _first_step(p[1]), p[0].uuid))
    evs, flags = [p[0] for p in pairs], [p[1] for p in pairs]
    candidates = []
    for i in range(len(evs)):
        if f.order == "unordered":
            if not any(flags[i]):
                continue
            depth, per_step, excluded = _walk_unordered(f, evs, flags, i)
        else:
            if not flags[i][0]:
                continue
            depth, per_step, excluded = _walk_ordered(f, evs, flags, i)
        reached = [t for t in per_step if t is not None]
        rank = (depth, not excluded, -max(reached).timestamp(), i)  # i: the entry's place in the order
        candidates.append((rank, sorted(reached), excluded, evs[i].timestamp))
    if not candidates:
        return None
    rank, times, excluded, entry = max(candidates, key=lambda c: c[0])
    return None if excluded else Run(rank[0], times, entry)


def _in_range(f: Funnel, e: EventRow) -> bool:
    return (
        e.person is not None
        and (f.date_from is None or e.timestamp >= f.date_from)
        and (f.date_to is None or e.timestamp <= f.date_to)
    )


def runs(f: Funnel, events: Sequence[EventRow]) -> list[Run]:
    by_person: dict[Any, list[EventRow]] = {}
    for e in events:
        relevant = any(m(e) for m in f.steps) or any(m(e) for m, _, _ in f.exclusions)
        if _in_range(f, e) and (relevant or f.order == "strict"):
            by_person.setdefault(e.person, []).append(e)
    result = []
    for evs in by_person.values():
        if f.breakdown is None or f.attribution in ("first_touch", "last_touch"):
            run = _best_run(f, evs, [_flags(f, e) for e in evs])
            if run is not None and f.breakdown is not None:
                run.value = _touch(f, evs)
            result += [run] if run else []
        elif f.attribution == "all_events":
            for value in {_value(e, f.breakdown) for e in evs}:
                same = [e for e in evs if _value(e, f.breakdown) == value]
                run = _best_run(f, same, [_flags(f, e) for e in same])
                result += [Run(run.depth, run.times, run.entry, value)] if run else []
        else:
            k = f.attribution_step
            values = {_value(e, f.breakdown) for e in evs if f.steps[k](e)} or {NULL}
            for value in values:
                flags = []
                for e in evs:
                    row = _flags(f, e)
                    row[k] = row[k] and _value(e, f.breakdown) == value
                    flags.append(row)
                run = _best_run(f, evs, flags)
                result += [Run(run.depth, run.times, run.entry, value)] if run else []
    return result


def _touch(f: Funnel, evs: list[EventRow]) -> str:
    assert f.breakdown is not None
    ordered = sorted(
        (e for e in evs if any(m(e) for m in f.steps) and _value(e, f.breakdown) != NULL),
        key=lambda e: (
            (e.timestamp, e.uuid) if f.attribution == "first_touch" else (-e.timestamp.timestamp(), e.uuid)
        ),
    )
    return _value(ordered[0], f.breakdown) if ordered else NULL


@dataclass
class StepStats:
    counts: list[int]
    averages: list[float | None]
    medians: list[float | None]


def stats(f: Funnel, found: list[Run]) -> StepStats:
    n = len(f.steps)
    counts = [sum(1 for r in found if r.depth > k) for k in range(n)]
    averages: list[float | None] = [None]
    medians: list[float | None] = [None]
    for k in range(1, n):
        gaps = [(r.times[k] - r.times[k - 1]).total_seconds() for r in found if r.depth > k]
        averages.append(statistics.fmean(gaps) if gaps else None)
        medians.append(statistics.median(gaps) if gaps else None)
    return StepStats(counts, averages, medians)


def by_value(f: Funnel, found: list[Run]) -> list[tuple[str, StepStats]]:
    """Per breakdown value in PostHog's order, values past the limit merged into Other (last)."""
    n = len(f.steps)
    values = sorted({r.value for r in found if r.value is not None})
    ranked = sorted(
        values,
        key=lambda v: (
            [-sum(1 for r in found if r.value == v and r.depth > k) for k in reversed(range(n))],
            v,
        ),
    )
    kept, rest = ranked[: f.breakdown_limit], set(ranked[f.breakdown_limit :])
    result = [(v, stats(f, [r for r in found if r.value == v])) for v in kept]
    if rest:
        result.append((OTHER, stats(f, [r for r in found if r.value in rest])))
    return result
