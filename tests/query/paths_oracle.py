"""Plain-Python paths over the same event rows, from the documented semantics
(app/query/kinds/paths.py): items, sessions, collapsed repeats, points, step limit, edges."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tests.factories.events import EventRow


@dataclass
class Paths:
    include: list[str] = field(default_factory=list)
    start: str | None = None
    end: str | None = None
    step_limit: int = 5
    edge_limit: int = 50
    min_weight: int | None = None
    max_weight: int | None = None
    exclude: list[str] = field(default_factory=list)
    groupings: list[str] = field(default_factory=list)
    cleaning: list[tuple[str, str]] = field(default_factory=list)  # (regex, alias)
    date_from: datetime | None = None
    date_to: datetime | None = None


def _queried(p: Paths, event: str) -> bool:
    return event not in p.exclude if not p.include else event in p.include


def item(p: Paths, e: EventRow) -> str | None:
    """The event's path item, or None when the event isn't part of paths."""
    custom = not e.event.startswith("$")
    if p.include and not (e.event in p.include or (custom and "custom_event" in p.include)):
        return None
    if e.event == "$pageview" and _queried(p, "$pageview"):
        url = e.properties.get("$current_url") or e.properties.get("$pathname") or ""
        value = url[:-1] if len(url) > 1 and url.endswith("/") else url
    elif e.event == "$screen" and _queried(p, "$screen"):
        value = e.properties.get("$screen_name") or ""
    else:
        value = e.event
    for regex, alias in p.cleaning:
        value = re.sub(regex, alias, value)
    for grouping in p.groupings:
        if re.search(".*".join(re.escape(part) for part in grouping.split("*")), value):
            value = grouping
            break
    return None if value in p.exclude else value


def sessions(p: Paths, events: Sequence[EventRow]) -> list[list[tuple[datetime, str]]]:
    per_person: dict[Any, list[tuple[datetime, str]]] = defaultdict(list)
    for e in events:
        if (
            e.person is None
            or (p.date_from and e.timestamp < p.date_from)
            or (p.date_to and e.timestamp > p.date_to)
        ):
            continue
        if (value := item(p, e)) is not None:
            per_person[e.person].append((e.timestamp, value))
    found = []
    for rows in per_person.values():
        rows.sort()  # by time, then by item (code point order, as UTF-8 bytes sort)
        current: list[tuple[datetime, str]] = []
        for ts, value in rows:
            if current and ts - current[-1][0] >= timedelta(minutes=30):
                found.append(current)
                current = []
            current.append((ts, value))
        found.append(current)
    return [_collapse(s) for s in found if s]


def _collapse(session: list[tuple[datetime, str]]) -> list[tuple[datetime, str]]:
    """Repeats in a row keep their last occurrence; a trailing empty item goes too, as in PostHog."""
    nexts = [v for _, v in session[1:]] + [""]
    return [(ts, v) for (ts, v), nxt in zip(session, nexts, strict=True) if v != nxt]


def limited(p: Paths, session: list[tuple[datetime, str]]) -> list[tuple[datetime, str]] | None:
    values = [v for _, v in session]
    if p.start and p.end:
        if p.start not in values:
            return None
        first = values.index(p.start)
        if p.end not in values[first:]:
            return None
        last = first + values[first:].index(p.end)
        part = session[first : last + 1]
        if len(part) <= p.step_limit:
            return part
        half = p.step_limit // 2
        return [*part[:half], (part[half][0], "..."), *part[len(part) - half :]]
    if p.start:
        if p.start not in values:
            return None
        return session[values.index(p.start) :][: p.step_limit]
    if p.end:
        if p.end not in values:
            return None
        return session[: values.index(p.end) + 1][-p.step_limit :]
    return session[: p.step_limit]


def edges(p: Paths, events: Sequence[EventRow]) -> list[tuple[str, str, int, float]]:
    """(source, target, sessions, average milliseconds), as the engine returns them."""
    counted: dict[tuple[str, str], list[float]] = defaultdict(list)
    for session in sessions(p, events):
        path = limited(p, session)
        for i in range(1, len(path or [])):
            assert path is not None
            (t0, a), (t1, b) = path[i - 1], path[i]
            counted[(f"{i}_{a}", f"{i + 1}_{b}")].append((t1 - t0).total_seconds())
    rows = [
        (s, t, len(times), sum(times) / len(times) * 1000.0)
        for (s, t), times in counted.items()
        if (p.min_weight is None or len(times) >= p.min_weight)
        and (p.max_weight is None or len(times) <= p.max_weight)
    ]
    rows.sort(key=lambda r: (-r[2], r[0].encode(), r[1].encode()))
    rows = rows[: p.edge_limit]
    children: dict[str, list[str]] = defaultdict(list)
    for s, t, _, _ in rows:
        children[s].append(t)
    seen, stack = set(), [s for s, _, _, _ in rows if s.startswith("1_")]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(children[node])
    return [r for r in rows if r[0] in seen]
