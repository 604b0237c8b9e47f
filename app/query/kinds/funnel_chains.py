"""Funnel progress per entry, and the best entry per run: one sort, then binary searches in arrays.

Rows of a run are numbered in (timestamp, first step matched, uuid) order (no uuid when ties are
interchangeable, `funnel_rows.ties_are_interchangeable`); "after a row" means a
higher position, so a row never serves two steps and same-timestamp rows chain in funnel order.
Each run becomes one row of sorted arrays: `times` (the timestamp at each position) and, per step
and exclusion, the positions of the rows matching it. Then, per entry, each step is one
`width_bucket` (a binary search) in the step's array, whatever the number of steps:

- ordered: from an entry (a step-0 row), the chain takes for each next step the first matching row
  after the previous step's row. Taking the earliest row at every step reaches each step as early
  as possible, so this chain reaches the most steps within the window.
- strict: the next step must be the very next row of the run (whose rows are all the actor's events).
- unordered: every step row anchors a window; step k counts when a step-k row is at or after the
  anchor within the window; conversion times are the sorted first times of the steps reached.
- exclusions: the first exclusion row after the entry's step-`from` row excludes the entry if it
  happened before its step-`to` row (or, when `to` isn't reached, within the window).

`entries()` has one row per candidate entry: the run keys, `entry` (its time), `position`, `depth`
(steps reached, 1..n), `excluded`, `completion` (when the deepest step was reached) and `t0..`
(when each step was reached). `best()` keeps each run's entry that reached most steps (a clean one
before an excluded one, then the one finishing first, then the latest), and drops the run if that
entry is excluded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    DateTime,
    Float,
    Integer,
    Interval,
    Select,
    Subquery,
    Text,
    and_,
    case,
    cast,
    column,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, array

from app.query.kinds.funnel_rows import Partitioned, exclusion, step
from app.query.specs import FunnelSpec
from app.query.sql import epoch


def time(k: int) -> str:
    return f"t{k}"


def _positions(name: str) -> str:
    return f"at_{name}"


def _arrays(spec: FunnelSpec, n: int, part: Partitioned) -> Subquery:
    """One row per run: `times` by position and, per step and exclusion (and for unordered funnels
    any step), the sorted positions of the rows matching it (`array_positions` of the flag's
    booleans, in C).

    The aggregates read their rows in position order from a sorted subquery, which Postgres
    documents for exactly this (SQL 4.2.7; the caveat is a join above the sort, and there is none):
    its one sort serves every aggregate. `ORDER BY` inside each aggregate instead sorts every run
    once per aggregate on Postgres 15 (1M events, 3-step funnel: 554 against 398 ms), and numbering
    the rows with a window first, as this did before, costs a pass over them (506 ms)."""
    rows = part.table
    in_order = [rows.c.ts, rows.c.first_step.asc().nulls_last(), *([rows.c.uuid] if "uuid" in rows.c else [])]
    t = select(*rows.c).order_by(*(rows.c[k] for k in part.keys), *in_order).subquery("funnel_sorted")
    # Disjoint steps: one array of each row's step instead of one array of booleans per step (1M
    # events, 5 steps: the grouping aggregated six arrays of 300k rows).
    coded = part.disjoint
    flags: dict[str, ColumnElement[bool]] = {} if coded else {step(k): t.c[step(k)] for k in range(n)}
    flags |= {exclusion(e): t.c[exclusion(e)] for e in range(len(spec.exclusions))}
    if spec.order == "unordered":
        flags["any"] = t.c.first_step.is_not(None)
    touches: list[ColumnElement[Any]] = []
    if part.attributed:  # first/last touch: the values of the run's step rows having one, in order
        touched = and_(t.c.bv_set, t.c.first_step.is_not(None))
        touches = [
            func.array_agg(t.c.bv[i + 1], type_=ARRAY(Text)).filter(touched).label(f"touch{i}")
            for i in range(part.width)
        ]
    grouped = (
        select(
            *(t.c[k] for k in part.keys),
            func.array_agg(t.c.ts, type_=ARRAY(DateTime(timezone=True))).label("times"),
            *([func.array_agg(t.c.first_step, type_=ARRAY(Integer)).label("steps")] if coded else []),
            *(func.array_agg(flag, type_=ARRAY(Boolean)).label(f"is_{name}") for name, flag in flags.items()),
            *touches,
        )
        .group_by(*(t.c[k] for k in part.keys))
        .subquery("funnel_grouped")
    )
    g = grouped.c
    columns = [
        *(g[k] for k in part.keys),
        g.times,
        *(
            func.array_positions(g[f"is_{name}"], true(), type_=ARRAY(Integer)).label(_positions(name))
            for name in flags
        ),
        *(
            func.array_positions(g.steps, k, type_=ARRAY(Integer)).label(_positions(step(k)))
            for k in range(n)
            if coded
        ),
    ]
    if part.attributed:
        index = literal(1) if spec.attribution == "first_touch" else func.array_length(g.touch0, 1)
        value = case((g.touch0.is_not(None), array[Any]([g[f"touch{i}"][index] for i in range(part.width)])))
        columns.append(value.label("part"))
    return _fenced(select(*columns), "funnel_arrays")


def run_keys(part: Partitioned) -> tuple[str, ...]:
    """The columns identifying a run after `_arrays`: first/last touch runs carry their value."""
    return (*part.keys, "part") if part.attributed else part.keys


def _first_after(positions: ColumnElement[Any], after: ColumnElement[Any]) -> ColumnElement[Any]:
    """The first position in the sorted `positions` greater than `after` (NULL if none)."""
    return positions[func.width_bucket(after, positions) + 1]


def _last_before(positions: ColumnElement[Any], before: ColumnElement[Any]) -> ColumnElement[Any]:
    """The last position in the sorted `positions` smaller than `before` (NULL if none)."""
    return positions[func.nullif(func.width_bucket(before - 1, positions), 0)]


def _prunes_entries(spec: FunnelSpec) -> bool:
    """Whether only some entries need walking (see `_candidates`): not with exclusions (an earlier
    entry can be clean where a later one isn't), not per entry period (funnel trends), not unordered."""
    return spec.order != "unordered" and not spec.exclusions and spec.viz != "trends"


def _candidates(spec: FunnelSpec, arrays: Subquery) -> Subquery:
    """(run arrays..., position) for each entry worth walking.

    An entry followed by another entry before its first step-1 row can't win: the later one follows
    the same chain with more time left, so it reaches as many steps, finishes at the same time, and
    is later. So without exclusions the candidates are the last entry before each step-1 row (for
    strict funnels: the row just before it, if an entry), plus the first entry, which wins when no
    entry reaches step 1 in time."""
    a = arrays.c
    cell = column("cell", Integer)
    if spec.order == "unordered":
        cells: ColumnElement[Any] = a[_positions("any")]
    elif not _prunes_entries(spec):
        cells = a[_positions(step(0))]
    else:
        entries = a[_positions(step(0))]
        cells = func.array_append(a[_positions(step(1))], entries[1] + 1, type_=ARRAY(Integer))
    unnested = func.unnest(cells).table_valued(cell).render_derived(name="cells").lateral()
    position: ColumnElement[Any] = unnested.c.cell
    if spec.order != "unordered" and _prunes_entries(spec):
        entries = a[_positions(step(0))]
        before = _last_before(entries, unnested.c.cell)
        position = case((before == unnested.c.cell - 1, before)) if spec.order == "strict" else before
    return (
        select(*a, position.label("position"))
        .select_from(arrays.join(unnested, true()))
        .subquery("funnel_candidates")
    )


def _fenced(query: Select[Any], name: str) -> Subquery:
    """A subquery Postgres won't inline into the next (`OFFSET 0`), so that the binary searches
    and array lookups it computes run once per row instead of once per reference."""
    return query.offset(0).subquery(name)


def _ordered_entries(spec: FunnelSpec, n: int, part: Partitioned, arrays: Subquery) -> Subquery:
    found = _candidates(spec, arrays)
    f = found.c
    walk = _fenced(select(*f).where(f.position.is_not(None)), "funnel_walk_0")
    for k in range(1, n):
        previous = walk.c.position if k == 1 else walk.c[f"position{k - 1}"]
        following = _first_after(walk.c[_positions(step(k))], previous)
        if spec.order == "strict":
            following = case((following == previous + 1, following))
        walk = _fenced(select(*walk.c, following.label(f"position{k}")), f"funnel_walk_{k}")
    c = walk.c
    reached = [c.position, *(c[f"position{k}"] for k in range(1, n))]
    walked = _fenced(
        select(
            *(c[k] for k in run_keys(part)),
            c.position,
            c.times[c.position].label("entry"),
            *(c.times[p].label(f"reach{k}") for k, p in enumerate(reached)),
            *(
                c.times[_first_after(c[_positions(exclusion(e))], reached[rule.from_step])].label(
                    f"exclusion{e}"
                )
                for e, rule in enumerate(spec.exclusions)
            ),
        ),
        "funnel_walked",
    )
    w = walked.c
    deadline = w.entry + literal(timedelta(seconds=spec.window_seconds), Interval())
    depth = case(
        *((w[f"reach{m}"] <= deadline, literal(m + 1)) for m in range(n - 1, 0, -1)), else_=literal(1)
    )
    depths = _fenced(select(*w, deadline.label("deadline"), depth.label("depth")), "funnel_depths")
    d = depths.c
    times = [d.entry] + [case((d.depth > k, d[f"reach{k}"])) for k in range(1, n)]
    excluded = []
    for e, rule in enumerate(spec.exclusions):
        seen = d[f"exclusion{e}"]
        before_end = case((d.depth > rule.to_step, seen < times[rule.to_step]), else_=seen <= d.deadline)
        excluded.append(and_(d.depth > rule.from_step, seen.is_not(None), before_end))
    return _fenced(
        select(
            *(d[k] for k in run_keys(part)),
            d.position,
            d.entry,
            d.depth,
            (or_(*excluded) if excluded else false()).label("excluded"),
            func.coalesce(*reversed(times)).label("completion"),
            *(value.label(time(k)) for k, value in enumerate(times)),
        ),
        "funnel_entries",
    )


def _unordered_entries(spec: FunnelSpec, n: int, part: Partitioned, arrays: Subquery) -> Subquery:
    found = _candidates(spec, arrays)
    f = found.c
    anchor = f.position
    firsts = _fenced(
        select(
            *(f[k] for k in run_keys(part)),
            anchor.label("position"),
            f.times[anchor].label("entry"),
            *(f.times[_first_after(f[_positions(step(k))], anchor - 1)].label(f"first{k}") for k in range(n)),
            *(
                f.times[_first_after(f[_positions(exclusion(e))], anchor)].label(f"exclusion{e}")
                for e in range(len(spec.exclusions))
            ),
        ),
        "funnel_firsts",
    )
    r = firsts.c
    deadline = r.entry + literal(timedelta(seconds=spec.window_seconds), Interval())
    anchored = _fenced(
        select(
            *r,
            deadline.label("deadline"),
            *(case((r[f"first{k}"] <= deadline, r[f"first{k}"])).label(time(k)) for k in range(n)),
        ),
        "funnel_anchors",
    )
    a = anchored.c
    within = [a[time(k)] for k in range(n)]
    depth = sum((case((value.is_not(None), literal(1)), else_=literal(0)) for value in within), literal(0))
    counted = _fenced(
        select(*a, depth.label("depth"), func.greatest(*within).label("completion")), "funnel_counted"
    )
    c = counted.c
    excluded = [
        and_(seen.is_not(None), case((c.depth == n, seen < c.completion), else_=seen <= c.deadline))
        for seen in (c[f"exclusion{e}"] for e in range(len(spec.exclusions)))
    ]
    return _fenced(
        select(
            *(c[k] for k in run_keys(part)),
            c.position,
            c.entry,
            c.depth,
            (or_(*excluded) if excluded else false()).label("excluded"),
            c.completion,
            *(c[time(k)] for k in range(n)),  # unsorted until `best`
        ),
        "funnel_entries",
    )


def entries(spec: FunnelSpec, n: int, part: Partitioned) -> Subquery:
    arrays = _arrays(spec, n, part)
    if spec.order == "unordered":
        return _unordered_entries(spec, n, part, arrays)
    return _ordered_entries(spec, n, part, arrays)


def best(
    spec: FunnelSpec,
    n: int,
    found: Subquery,
    keys: Sequence[str],
    period: ColumnElement[Any] | None = None,
) -> Subquery:
    """Each run's (with `period`, each run's per-period) best entry; runs whose best is excluded drop.

    The best entry has the greatest ranking array [depth, clean, -completion, position, t0..t{n-1}]:
    most steps, then not excluded, then finishing first, then the latest. Times are epoch seconds in
    float8, which keeps every microsecond of this era apart. One aggregate, no sort of the entries."""
    group: list[ColumnElement[Any]] = [found.c[k] for k in keys]
    if period is not None:
        group.append(period.label("period"))
    c = found.c
    ranking = array[Any](
        [
            cast(c.depth, Float),
            case((c.excluded, literal(0.0)), else_=literal(1.0)),
            -epoch(c.completion),
            cast(c.position, Float),
            *(func.coalesce(epoch(c[time(k)]), literal(0.0)) for k in range(n)),
        ],
        type_=Float,
    )
    ranked = select(*group, func.max(ranking).label("ranking")).group_by(*group).subquery("funnel_ranked")
    r = ranked.c.ranking
    times = [case((r[5 + k] != 0, func.to_timestamp(r[5 + k]))) for k in range(n)]
    outer = [ranked.c[k] for k in keys] + ([ranked.c.period] if period is not None else [])
    chosen = select(
        *outer,
        cast(r[1], Integer).label("depth"),
        *(value.label(time(k)) for k, value in enumerate(times)),
    ).where(r[2] == 1)
    if spec.order != "unordered":
        return select(*chosen.subquery("funnel_chosen").c).subquery("funnel_runs_best")
    # Unordered: the steps were reached in time order, whatever their position in the funnel.
    unsorted = chosen.subquery("funnel_unsorted")
    cells = func.unnest(array[Any]([unsorted.c[time(k)] for k in range(n)], type_=DateTime(timezone=True)))
    at = column("at", DateTime(timezone=True))
    ordered = (
        select(func.array_agg(aggregate_order_by(at, at.asc())).label("times"))
        .select_from(cells.table_valued(at).render_derived(name="cells"))
        .where(at.is_not(None))
        .lateral("sorted_times")
    )
    others = [col for col in unsorted.c if col.name not in {time(k) for k in range(n)}]
    return (
        select(*others, *(ordered.c.times[k + 1].label(time(k)) for k in range(n)))
        .select_from(unsorted.join(ordered, literal(True)))
        .subquery("funnel_runs_best")
    )
