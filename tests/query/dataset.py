"""A deterministic, varied event set and a plain-Python oracle over it.

The oracle never imports the engine: buckets, filters and aggregates are computed here directly from
the rows, so a result test compares two independent computations.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.factories.events import EventRow, PersonRow, insert_events, insert_persons, new_person

NOW = datetime(2024, 3, 14, 15, 30, tzinfo=UTC)  # a Thursday, after the US DST change of 2024-03-10
BROWSERS = ["Chrome", "Firefox", "Safari", "Edge", "Opera", None, ""]
EVENTS = ["$pageview", "signup", "purchase"]
AMOUNTS: list[Any] = [10, 25.5, "40", "n/a", None, 7, 100, "1e2", True]


@dataclass
class Dataset:
    persons: list[PersonRow]
    events: list[EventRow]


def build(seed: int = 7, persons: int = 18, events: int = 600, days: int = 40) -> Dataset:
    rng = random.Random(seed)
    people = [
        new_person(
            {
                "email": f"user{i}@{'test.com' if i % 5 == 0 else 'example.com'}",
                "plan": ["free", "pro", None][i % 3],
                "age": 20 + i,
            }
        )
        for i in range(persons)
    ]
    rows = []
    for _ in range(events):
        person = rng.choice(people)
        timestamp = NOW - timedelta(seconds=rng.randrange(days * 86400))
        browser = rng.choice(BROWSERS)
        properties: dict[str, Any] = {"$current_url": rng.choice(["https://a.com/x", "https://a.com/y?q=1"])}
        if browser is not None:
            properties["$browser"] = browser
        amount = rng.choice(AMOUNTS)
        if amount is not None:
            properties["amount"] = amount
        rows.append(
            EventRow(
                event=rng.choice(EVENTS),
                timestamp=timestamp,
                person=person.uuid,
                properties=properties,
                session_id=rng.choice([None, "", "s1", "s2", "s3", "s4"]),
            )
        )
    return Dataset(people, rows)


async def seed(engine: AsyncEngine, team_id: int, dataset: Dataset) -> None:
    await insert_persons(engine, team_id, dataset.persons)
    await insert_events(engine, team_id, dataset.events)


def local_day(ts: datetime, tz: str) -> date:
    return ts.astimezone(ZoneInfo(tz)).date()


def day_buckets(now: datetime, tz: str, days_back: int) -> list[date]:
    today = now.astimezone(ZoneInfo(tz)).date()
    return [today - timedelta(days=days_back - i) for i in range(days_back + 1)]


def in_days(events: Iterable[EventRow], tz: str, first: date, last: date) -> list[EventRow]:
    return [e for e in events if first <= local_day(e.timestamp, tz) <= last]


def per_day(
    events: Iterable[EventRow],
    tz: str,
    buckets: list[date],
    aggregate: Callable[[list[EventRow]], float] = len,
) -> list[float]:
    grouped: dict[date, list[EventRow]] = {}
    for e in events:
        grouped.setdefault(local_day(e.timestamp, tz), []).append(e)
    return [float(aggregate(grouped[d])) if d in grouped else 0.0 for d in buckets]


def as_number(value: Any) -> float | None:
    """The oracle's numeric coercion: JSON numbers and numeric strings; not booleans."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation, as Postgres percentile_cont."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


median = statistics.median
