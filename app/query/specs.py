"""IR of the funnel, retention, paths and correlation kinds: frozen, defaulted, validated.

`QueryIR` carries at most one of these (`funnel`, `retention`, `paths`); a correlation query is a
funnel IR plus `correlation`. Entities (funnel exclusions, retention target/returning) are `Series`,
so actions, names and property filters work exactly as for trends series.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.query.ir import Series

FunnelViz = Literal["steps", "time_to_convert", "trends"]
FunnelOrder = Literal["ordered", "unordered", "strict"]
Attribution = Literal["first_touch", "last_touch", "all_events", "step"]
RetentionType = Literal["retention_first_time", "retention_recurring", "retention_first_ever_occurrence"]
Period = Literal["hour", "day", "week", "month"]
CorrelationType = Literal["events", "properties", "event_with_properties"]


@dataclass(frozen=True, slots=True)
class FunnelExclusion:
    entity: Series
    from_step: int
    to_step: int


@dataclass(frozen=True, slots=True)
class FunnelSpec:
    viz: FunnelViz
    order: FunnelOrder
    window_seconds: int
    exclusions: tuple[FunnelExclusion, ...]
    attribution: Attribution
    attribution_step: int  # the step whose value counts, for `attribution == "step"`
    step_reference: Literal["total", "previous"]  # display only: the frontend's percentages
    from_step: int  # time_to_convert / trends: conversion from this step ...
    to_step: int  # ... to this one
    bin_count: int | None  # time_to_convert; None = automatic


@dataclass(frozen=True, slots=True)
class RetentionSpec:
    retention_type: RetentionType
    period: Period
    total_intervals: int
    target: Series
    returning: Series
    cumulative: bool
    minimum_occurrences: int
    reference: Literal["total", "previous"]  # display only


@dataclass(frozen=True, slots=True)
class PathCleaning:
    alias: str
    regex: str


@dataclass(frozen=True, slots=True)
class PathsSpec:
    include_event_types: tuple[str, ...]  # empty: every event
    start_point: str | None
    end_point: str | None
    step_limit: int
    edge_limit: int
    min_edge_weight: int | None
    max_edge_weight: int | None
    exclude_events: tuple[str, ...]
    groupings: tuple[str, ...]  # wildcard patterns (`*`)
    cleaning: tuple[PathCleaning, ...]


@dataclass(frozen=True, slots=True)
class CorrelationSpec:
    type: CorrelationType
    names: tuple[str, ...]  # person properties (`properties`), `$all` for every one
    exclude_names: tuple[str, ...]
    event_names: tuple[str, ...]  # events whose properties are correlated (`event_with_properties`)
    exclude_event_names: tuple[str, ...]
    event_exclude_property_names: tuple[str, ...]
