"""Result shaping shared by the trends family: labels, days, the `action` echo, smoothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.query.ir import Series


def day_string(bucket: datetime, interval: str) -> str:
    return bucket.strftime("%Y-%m-%d %H:%M:%S" if interval in ("hour", "minute") else "%Y-%m-%d")


def label(bucket: datetime, interval: str) -> str:
    if interval in ("hour", "minute"):
        return f"{bucket.day}-{bucket.strftime('%b %H:%M')}"
    if interval == "month":
        return bucket.strftime("%b %Y")
    return f"{bucket.day}-{bucket.strftime('%b-%Y')}"


def labels(buckets: Sequence[datetime], interval: str, *, compare: bool = False) -> list[str]:
    if compare:
        return [f"{interval} {i}" for i in range(len(buckets))]
    return [label(b, interval) for b in buckets]


def days(buckets: Sequence[datetime], interval: str) -> list[str]:
    return [day_string(b, interval) for b in buckets]


def action(series: Series, day_strings: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": series.event if series.kind == "events" else series.action_id,
        "type": series.kind,
        "order": series.order,
        "name": series.name,
        "custom_name": series.custom_name,
        "math": series.math,
        "math_property": series.math_property,
        "math_hogql": None,
        "math_group_type_index": None,
        "properties": {},
        "days": day_strings or [],
    }


def number(value: Any) -> float:
    return float(value) if value is not None else 0.0


def smooth(data: Sequence[float], intervals: int) -> list[float]:
    """Moving average over the last `intervals` points (fewer at the start)."""
    if intervals <= 1:
        return list(data)
    result = []
    for i in range(len(data)):
        window = data[max(0, i - intervals + 1) : i + 1]
        result.append(sum(window) / len(window))
    return result


def cumulative(data: Sequence[float]) -> list[float]:
    total, result = 0.0, []
    for value in data:
        total += value
        result.append(total)
    return result
