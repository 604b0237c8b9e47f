"""The rows a funnel walks, and how breakdown attribution partitions them.

`rows()` is one row per event of an actor that matches a step or an exclusion (for strict funnels,
every event of the actor, since any event in between breaks the order), with columns:

    pid, ts, uuid (unless `ties_are_interchangeable`), s0..s{n-1} (matches step i),
    x0.. (matches exclusion e), first_step (the lowest step matched, NULL for other events),
    bv (breakdown value, text[]), bv_set

`partitioned()` turns them into the rows of independent funnel runs (`Partitioned.keys`):
- no breakdown, first_touch, last_touch: one run per actor (the value is attributed from the actor's
  first / last step event having one, in `funnel_chains`);
- all_events: one run per actor and value, over the actor's events having that value;
- step: one run per actor and value seen on a step-`i` event, where step `i` only matches events
  with that value (actors who never did step `i` run once, under the null value).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    Select,
    Subquery,
    Text,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, array

from app.query import source
from app.query.breakdowns import NULL, raw_expression
from app.query.dates import ResolvedRange
from app.query.ir import QueryIR, Series
from app.query.specs import FunnelSpec
from app.query.sql import EVENTS


def step(i: int) -> str:
    return f"s{i}"


def exclusion(e: int) -> str:
    return f"x{e}"


def spec_of(ir: QueryIR) -> FunnelSpec:
    assert ir.funnel is not None
    return ir.funnel


def null_value(ir: QueryIR) -> list[str]:
    return [NULL] * (len(ir.breakdown.items) if ir.breakdown else 1)


def ties_are_interchangeable(ir: QueryIR) -> bool:
    """Whether a run's rows at the same (timestamp, first step) are interchangeable, so numbering
    them needs no uuid tie-break (only the events heap holds the uuid: reading it is most of a
    funnel's scan, which is otherwise index-only).

    They are when every step and exclusion matches by event name alone and there is no breakdown:
    a row's flags are then a function of its event name, and equal first steps mean equal names
    (first step i: the event is step i's). Rows matching no step sort after the step rows at their
    timestamp, where their order among themselves changes no position of a step row.
    """
    spec = spec_of(ir)
    entities = [*ir.series, *(e.entity for e in spec.exclusions)]
    return _by_name(entities) and ir.breakdown is None


def steps_are_disjoint(ir: QueryIR) -> bool:
    """Whether an event matches at most one step (steps by name alone, each a different name): a row's
    `first_step` then tells every step it matches, so step positions come from one array of them."""
    names = [s.event for s in ir.series]
    return _by_name(ir.series) and len(set(names)) == len(names)


def _join_persons(ir: QueryIR, ctx: source.CompileContext) -> bool:
    return any(source.needs_persons(ir, entity, ctx) for entity in ir.entities)


def _by_name(entities: Sequence[Series]) -> bool:
    """Whether each entity matches by event name alone."""
    return all(e.kind == "events" and e.event is not None and e.properties.empty for e in entities)


def _actors_matching(
    ir: QueryIR, ctx: source.CompileContext, rng: ResolvedRange, entities: Sequence[Series]
) -> Select[Any]:
    """The actors (with repeats) having an event in range that matches one of `entities`."""
    prefilter = source.event_prefilter(entities, ctx)
    matching = [] if prefilter is None else [prefilter]
    # By name, the prefilter is the match: repeating it as equalities would make the planner square
    # its selectivity and pick a nested loop over the few actors it then expects.
    if not _by_name(entities):
        matching.append(or_(*(source.series_match(e, ctx) for e in entities)))
    where = [
        *source.query_conditions(ir, ctx, rng.date_from, rng.date_to),
        EVENTS.c.person_id.is_not(None),
        *matching,
    ]
    # Inside `rows()`'s WHERE: its own FROM, not correlated to the events it filters.
    return (
        select(EVENTS.c.person_id)
        .select_from(source.from_clause(_join_persons(ir, ctx)))
        .where(*where)
        .correlate(None)
    )


def _later_steps(ir: QueryIR) -> Sequence[Series]:
    """The steps an actor must have an event of to get past step 0: step 1 (unordered: any but 0)."""
    return ir.series[1:] if spec_of(ir).order == "unordered" else ir.series[1:2]


def walks_only_converting(ir: QueryIR) -> bool:
    """Whether actors reaching no later step (see `_later_steps`) can be left out of the walk and
    counted apart (`entered`): without exclusions, such an actor's funnel is exactly one step deep.
    Most actors of a funnel starting with a page view never get further, and walking them is most
    of its cost. Not per breakdown value, whose attribution needs every actor's rows."""
    return not spec_of(ir).exclusions and ir.breakdown is None


def entered(ir: QueryIR, ctx: source.CompileContext, rng: ResolvedRange) -> ScalarSelect[Any]:
    """The number of actors entering the funnel: with an event of step 0 (unordered: of any step)."""
    entries = ir.series if spec_of(ir).order == "unordered" else ir.series[:1]
    actors = _actors_matching(ir, ctx, rng, entries).group_by(EVENTS.c.person_id).subquery("entered")
    return select(func.count()).select_from(actors).scalar_subquery()


def rows(
    ir: QueryIR, ctx: source.CompileContext, rng: ResolvedRange, *, converting: bool = False
) -> Subquery:
    """With `converting`, only the rows of actors who have an event of a later step."""
    spec = spec_of(ir)
    steps = [source.series_match(s, ctx) for s in ir.series]
    exclusions = [source.series_match(e.entity, ctx) for e in spec.exclusions]
    where = [*source.query_conditions(ir, ctx, rng.date_from, rng.date_to), EVENTS.c.person_id.is_not(None)]
    if converting:
        where.append(EVENTS.c.person_id.in_(_actors_matching(ir, ctx, rng, _later_steps(ir))))
    # Strict: every event of the actor, since any one breaks the order.
    strict = spec.order == "strict"
    prefilter = source.any_event_prefilter(ctx) if strict else source.event_prefilter(ir.entities, ctx)
    if prefilter is not None:
        where.append(prefilter)
    if not strict:
        where.append(or_(*steps, *exclusions))
    first_step = func.least(*(case((matches, literal(i)), else_=None) for i, matches in enumerate(steps)))
    tie_break = [] if ties_are_interchangeable(ir) else [EVENTS.c.uuid.label("uuid")]
    columns: list[ColumnElement[Any]] = [
        EVENTS.c.person_id.label("pid"),
        EVENTS.c.timestamp.label("ts"),
        *tie_break,
        *(func.coalesce(m, false()).label(step(i)) for i, m in enumerate(steps)),
        *(func.coalesce(m, false()).label(exclusion(e)) for e, m in enumerate(exclusions)),
        first_step.label("first_step"),
    ]
    if ir.breakdown is not None:
        values = [raw_expression(item) for item in ir.breakdown.items]
        columns.append(array[Any](values, type_=Text).label("bv"))
        columns.append(or_(*(value != literal(NULL) for value in values)).label("bv_set"))
    return (
        select(*columns)
        .select_from(source.from_clause(_join_persons(ir, ctx)))
        .where(*where)
        .subquery("funnel_events")
    )


@dataclass(frozen=True, slots=True)
class Partitioned:
    table: Subquery  # rows plus `part` (the run's breakdown value) when runs are per value
    keys: tuple[str, ...]  # the columns identifying one run: ("pid",) or ("pid", "part")
    attributed: bool  # the value is attributed per actor afterwards (first/last touch)
    width: int = 0  # breakdown values per run (1, or the number of `breakdowns`)
    disjoint: bool = False  # `steps_are_disjoint`


def partitioned(ir: QueryIR, table: Subquery) -> Partitioned:
    spec = spec_of(ir)
    disjoint = steps_are_disjoint(ir)
    if ir.breakdown is None:
        return Partitioned(table, ("pid",), attributed=False, disjoint=disjoint)
    width = len(ir.breakdown.items)
    if spec.attribution in ("first_touch", "last_touch"):
        return Partitioned(table, ("pid",), attributed=True, width=width, disjoint=disjoint)
    if spec.attribution == "all_events":
        runs = select(*table.c, table.c.bv.label("part")).subquery("funnel_runs")
        return Partitioned(runs, ("pid", "part"), attributed=False, width=width, disjoint=disjoint)
    # Narrowing one step to a value keeps the steps disjoint, and `first_step` follows it.
    per_value = _per_step_value(ir, table, spec.attribution_step)
    return Partitioned(per_value, ("pid", "part"), attributed=False, width=width, disjoint=disjoint)


def _per_step_value(ir: QueryIR, table: Subquery, attributed_step: int) -> Subquery:
    seen = (
        select(table.c.pid, table.c.bv)
        .where(table.c[step(attributed_step)])
        .distinct()
        .subquery("step_values")
    )
    runs = (
        select(table.c.pid, func.coalesce(seen.c.bv, literal(null_value(ir), ARRAY(Text))).label("part"))
        .select_from(table.outerjoin(seen, seen.c.pid == table.c.pid))
        .distinct()
        .subquery("run_values")
    )
    steps: dict[str, ColumnElement[bool]] = {step(i): table.c[step(i)] for i in range(len(ir.series))}
    steps[step(attributed_step)] = and_(table.c[step(attributed_step)], table.c.bv == runs.c.part)
    first_step = func.least(
        *(case((matches, literal(i)), else_=None) for i, matches in enumerate(steps.values()))
    )
    others = [c for c in table.c if c.name not in steps and c.name != "first_step"]
    return (
        select(
            *others,
            *(matches.label(name) for name, matches in steps.items()),
            first_step.label("first_step"),
            runs.c.part,
        )
        .select_from(table.join(runs, runs.c.pid == table.c.pid))
        .subquery("funnel_runs")
    )
