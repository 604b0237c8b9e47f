"""The engine's intermediate representation: frozen, fully defaulted, validated.

Everything after `normalize` works on these dataclasses only; the Pydantic query nodes stop at the
normalizer. `cache_dict` leaves out cosmetic fields (names, display-only options) so that renaming a
series does not change the cache key.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from app.query.specs import CorrelationSpec, FunnelSpec, PathsSpec, RetentionSpec

Interval = Literal["minute", "hour", "day", "week", "month"]
ScalarValue = str | float | bool
FilterValue = ScalarValue | tuple[ScalarValue, ...] | None

AGGREGATED_DISPLAYS = frozenset({"BoldNumber", "ActionsPie", "ActionsBarValue", "ActionsTable", "WorldMap"})
COSMETIC_FIELDS = frozenset({"custom_name", "name", "label", "display_name"})


@dataclass(frozen=True, slots=True)
class PropertyFilter:
    type: Literal["event", "person", "element"]
    key: str
    operator: str
    value: FilterValue


@dataclass(frozen=True, slots=True)
class PropertyGroup:
    type: Literal["AND", "OR"]
    values: tuple[PropertyFilter | PropertyGroup, ...] = ()

    @property
    def empty(self) -> bool:
        return all(isinstance(v, PropertyGroup) and v.empty for v in self.values)


EMPTY_GROUP = PropertyGroup("AND", ())


@dataclass(frozen=True, slots=True)
class Series:
    order: int
    kind: Literal["events", "actions"]
    event: str | None  # EventsNode.event (None = all events)
    action_id: int | None
    name: str  # what labels show when there is no custom_name
    custom_name: str | None
    math: str
    math_property: str | None
    math_multiplier: float | None
    properties: PropertyGroup

    @property
    def label(self) -> str:
        return self.custom_name or self.name


@dataclass(frozen=True, slots=True)
class DateRangeSpec:
    date_from: str | None = None
    date_to: str | None = None
    explicit: bool = False


@dataclass(frozen=True, slots=True)
class BreakdownItem:
    property: str
    type: Literal["event", "person"]
    histogram_bin_count: int | None = None
    normalize_url: bool = False


@dataclass(frozen=True, slots=True)
class Breakdown:
    items: tuple[BreakdownItem, ...]
    limit: int
    hide_other: bool
    multi: bool  # `breakdowns` list form: breakdown_value is a list


@dataclass(frozen=True, slots=True)
class Compare:
    compare_to: str | None = None  # None = the previous period of equal length


@dataclass(frozen=True, slots=True)
class Formula:
    formula: str
    custom_name: str | None = None


@dataclass(frozen=True, slots=True)
class StickinessCriteria:
    operator: Literal["gte", "lte", "exact"]
    value: int


@dataclass(frozen=True, slots=True)
class QueryIR:
    """Fields every insight kind shares."""

    kind: str
    series: tuple[Series, ...]
    interval: Interval
    date_range: DateRangeSpec
    properties: PropertyGroup
    filter_test_accounts: bool
    compare: Compare | None = None
    breakdown: Breakdown | None = None
    # Trends
    display: str = "ActionsLineGraph"
    formulas: tuple[Formula, ...] = ()
    smoothing_intervals: int = 1
    # Stickiness
    interval_count: int | None = None  # None: calendar intervals; N: N whole intervals back from the end
    cumulative: bool = False
    criteria: StickinessCriteria | None = None
    # Lifecycle
    toggled_lifecycles: tuple[str, ...] = field(default=("new", "returning", "resurrecting", "dormant"))
    # Funnels, retention, paths, funnel correlation (see app.query.specs)
    funnel: FunnelSpec | None = None
    retention: RetentionSpec | None = None
    paths: PathsSpec | None = None
    correlation: CorrelationSpec | None = None

    @property
    def aggregated(self) -> bool:
        return self.display in AGGREGATED_DISPLAYS

    @property
    def entities(self) -> tuple[Series, ...]:
        """Every event/action matcher of the query: series, funnel exclusions, retention entities."""
        extra: tuple[Series, ...] = ()
        if self.funnel is not None:
            extra = tuple(e.entity for e in self.funnel.exclusions)
        if self.retention is not None:
            extra = (self.retention.target, self.retention.returning)
        return self.series + extra

    @property
    def action_ids(self) -> tuple[int, ...]:
        return tuple(sorted({s.action_id for s in self.entities if s.action_id is not None}))


def cache_dict(value: Any) -> Any:
    """JSON-able form of an IR value without cosmetic fields (for the cache key)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: cache_dict(getattr(value, f.name)) for f in fields(value) if f.name not in COSMETIC_FIELDS
        }
    if isinstance(value, tuple | list):
        return [cache_dict(v) for v in value]
    return value
