"""Funnel progress per entry and the best entry per run, as window functions over a run's rows.

Rows of a run are ordered by (timestamp, first step matched, uuid); "after a row" means later in that
order, so a row never serves two steps and same-timestamp rows chain in funnel order.

- ordered: from an entry (a step-0 row), the chain takes for each next step the first matching row
  after the previous step's row. Taking the earliest row at every step reaches each step as early as
  possible, so this chain reaches the most steps within the window. With c(j, m) = when step m is
  reached from a step-j row: c(m, m) = ts, and c(j, m) = min of c(j+1, m) over the step-(j+1) rows
  after it (c grows with the row's position, so the minimum is the first such row's). Each level is
  one window pass over the same sort, in descending order with a frame that starts at the partition
  (`ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING`) so Postgres aggregates incrementally.
- strict: the same, but the next step must be the very next row (`lag` over the descending order).
- unordered: every step row anchors a window; step k counts when a step-k row is at or after the
  anchor within the window; conversion times are the sorted first times of the steps reached.
- exclusions: nx(e) = the next exclusion-e row after a row, carried back along the chain from the
  step-`from` row to the entry like c; the entry is excluded if it falls before the step-`to` row
  (or, when step `to` isn't reached, within the window).

`entries()` has one row per entry: the run keys, `entry`, `depth` (steps reached, 1..n), `excluded`,
`completion` (when the deepest step was reached) and `t0..t{n-1}` (when each step was reached).
`best()` keeps each run's entry that reached most steps (a clean one before an excluded one, then
the one completing first, then the latest entry), and drops the run if that entry is excluded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Float,
    Integer,
    Interval,
    Subquery,
    and_,
    case,
    cast,
    column,
    false,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, array

from app.query.kinds.funnel_rows import Partitioned, exclusion, step
from app.query.specs import FunnelSpec
from app.query.sql import epoch

Builder = Callable[[Subquery], ColumnElement[Any]]
AFTER = (None, -1)  # in descending order: every row after this one
FROM_HERE = (None, 0)  # ... and this one


def time(k: int) -> str:
    return f"t{k}"


def _chain(j: int, m: int) -> str:
    return f"c{j}_{m}"


def _next_exclusion(e: int) -> str:
    return f"nx{e}"


def _carried(e: int, j: int) -> str:
    return f"p{e}_{j}"


class _Windows:
    def __init__(self, keys: Sequence[str], strict: bool) -> None:
        self.keys, self.strict = tuple(keys), strict

    def over(self, t: Subquery, expression: Any, frame: tuple[int | None, int] | None) -> ColumnElement[Any]:
        order = [t.c.ts.desc(), t.c.first_step.desc().nulls_first(), t.c.uuid.desc()]
        return expression.over(partition_by=[t.c[k] for k in self.keys], order_by=order, rows=frame)  # type: ignore[no-any-return]

    def after(self, t: Subquery, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """The chain's value at the next step: the next row (strict) or the first later one."""
        if self.strict:
            return self.over(t, func.lag(value), None)
        return self.over(t, func.min(value), AFTER)

    def first_after(self, t: Subquery, value: ColumnElement[Any]) -> ColumnElement[Any]:
        return self.over(t, func.min(value), AFTER)


Condition = Callable[[Subquery], ColumnElement[bool]]


def _nest(table: Subquery, levels: list[dict[str, Builder]], keep: Condition | None = None) -> Subquery:
    """One subquery per level, each adding its window columns; rows failing `keep` (given the first
    level's columns) are left out of the levels after it."""
    current = table
    for index, new in enumerate(levels):
        if new:
            built = [build(current).label(name) for name, build in new.items()]
            query = select(*current.c, *built)
            if keep is not None and index == 2:
                query = query.where(keep(current))
            current = query.subquery(f"funnel_level_{index}")
    return current


def _prunes_entries(spec: FunnelSpec) -> bool:
    """Whether dominated entries may be dropped early (see `_not_dominated`). Not with exclusions
    (an earlier entry can be clean where a later one isn't), not per period (funnel trends), and
    not in strict funnels (which need every row to know which one comes next)."""
    return spec.order == "ordered" and not spec.exclusions and spec.viz != "trends"


def _not_dominated(n: int, window: ColumnElement[Any]) -> Condition:
    """False for a step-0-only row followed by another step-0 row before its first step-1 row,
    when it reaches step 1 in time: the later entry follows the same chain with more time left, so
    it reaches as many steps, finishes at the same time and, being later, is preferred."""

    def build(t: Subquery) -> ColumnElement[bool]:
        other_steps = or_(*(t.c[step(k)] for k in range(1, n)))
        dominated = and_(
            t.c[step(0)],
            not_(other_steps),
            t.c.next_entry < t.c[_chain(0, 1)],
            t.c[_chain(0, 1)] <= t.c.ts + window,
        )
        return not_(func.coalesce(dominated, false()))

    return build


def _reached_at(m: int) -> Builder:
    def build(t: Subquery) -> ColumnElement[Any]:
        return case((t.c[step(m)], t.c.ts))

    return build


def _carry(windows: _Windows, j: int, name: str) -> Builder:
    """At step-j rows: the `name` value of the chain's next row (the step-(j+1) row it continues to)."""

    def build(t: Subquery) -> ColumnElement[Any]:
        return case((t.c[step(j)], windows.after(t, case((t.c[step(j + 1)], t.c[name])))))

    return build


def _first_after(windows: _Windows, flag: str) -> Builder:
    """The timestamp of the next row after this one with `flag` set."""

    def build(t: Subquery) -> ColumnElement[Any]:
        return windows.first_after(t, case((t.c[flag], t.c.ts)))

    return build


def _ordered_levels(spec: FunnelSpec, n: int, windows: _Windows) -> list[dict[str, Builder]]:
    levels: list[dict[str, Builder]] = [{} for _ in range(n)]
    levels[0] = {_chain(m, m): _reached_at(m) for m in range(n)}
    for level in range(1, n):
        for m in range(level, n):
            j = m - level
            levels[level][_chain(j, m)] = _carry(windows, j, _chain(j + 1, m))
    if _prunes_entries(spec):
        levels[1]["next_entry"] = _first_after(windows, step(0))
    for e, excluded in enumerate(spec.exclusions):
        levels[1][_next_exclusion(e)] = _first_after(windows, exclusion(e))
        start = excluded.from_step
        # From the step-`from` row (level 2) back to the entry (level from + 1).
        for j in range(start - 1, -1, -1):
            source = _next_exclusion(e) if j == start - 1 else _carried(e, j + 1)
            levels[2 + (start - 1 - j)][_carried(e, j)] = _carry(windows, j, source)
    return levels


def _ordered_entries(spec: FunnelSpec, n: int, part: Partitioned, windows: _Windows) -> Subquery:
    window = literal(timedelta(seconds=spec.window_seconds), Interval())
    keep = _not_dominated(n, window) if _prunes_entries(spec) else None
    t = _nest(part.table, _ordered_levels(spec, n, windows), keep)
    deadline = t.c.ts + window
    reached = {m: t.c[_chain(0, m)] <= deadline for m in range(1, n)}
    carried = {
        e: t.c[_carried(e, 0)] if rule.from_step >= 1 else t.c[_next_exclusion(e)]
        for e, rule in enumerate(spec.exclusions)
    }
    depths = (
        select(
            *(t.c[k] for k in part.keys),
            t.c.ts.label("entry"),
            t.c.first_step.label("entry_step"),
            deadline.label("deadline"),
            case(*((reached[m], literal(m + 1)) for m in range(n - 1, 0, -1)), else_=literal(1)).label(
                "depth"
            ),
            *(t.c[_chain(0, k)].label(f"reach{k}") for k in range(1, n)),
            *(value.label(f"exclusion{e}") for e, value in carried.items()),
        )
        .where(t.c[step(0)], *([keep(t)] if keep is not None and n == 2 else []))
        .subquery("funnel_depths")
    )
    d = depths.c
    times = [d.entry] + [case((d.depth > k, d[f"reach{k}"])) for k in range(1, n)]
    excluded = []
    for e, rule in enumerate(spec.exclusions):
        seen = d[f"exclusion{e}"]
        before_end = case((d.depth > rule.to_step, seen < times[rule.to_step]), else_=seen <= d.deadline)
        excluded.append(and_(d.depth > rule.from_step, seen.is_not(None), before_end))
    return select(
        *(d[k] for k in part.keys),
        d.entry,
        d.entry_step,
        d.depth,
        (or_(*excluded) if excluded else false()).label("excluded"),
        func.coalesce(*reversed(times)).label("completion"),
        *(value.label(time(k)) for k, value in enumerate(times)),
    ).subquery("funnel_entries")


def _first_from_here(windows: _Windows, flag: str) -> Builder:
    def build(t: Subquery) -> ColumnElement[Any]:
        return windows.over(t, func.min(case((t.c[flag], t.c.ts))), FROM_HERE)

    return build


def _unordered_entries(spec: FunnelSpec, n: int, part: Partitioned, windows: _Windows) -> Subquery:
    first: dict[str, Builder] = {f"f{k}": _first_from_here(windows, step(k)) for k in range(n)}
    for e in range(len(spec.exclusions)):
        first[_next_exclusion(e)] = _first_after(windows, exclusion(e))
    t = _nest(part.table, [{}, first])
    deadline = t.c.ts + literal(timedelta(seconds=spec.window_seconds), Interval())
    anchored = (
        select(
            *(t.c[k] for k in part.keys),
            t.c.ts.label("entry"),
            t.c.first_step.label("entry_step"),
            deadline.label("deadline"),
            *(case((t.c[f"f{k}"] <= deadline, t.c[f"f{k}"])).label(time(k)) for k in range(n)),
            *(t.c[_next_exclusion(e)] for e in range(len(spec.exclusions))),
        )
        .where(t.c.first_step.is_not(None))
        .subquery("funnel_anchors")
    )
    a = anchored.c
    within = [a[time(k)] for k in range(n)]
    depth = sum((case((value.is_not(None), literal(1)), else_=literal(0)) for value in within), literal(0))
    counted = select(*a, depth.label("depth"), func.greatest(*within).label("completion")).subquery(
        "funnel_counted"
    )
    c = counted.c
    excluded = [
        and_(nx.is_not(None), case((c.depth == n, nx < c.completion), else_=nx <= c.deadline))
        for nx in (c[_next_exclusion(e)] for e in range(len(spec.exclusions)))
    ]
    return select(
        *(c[k] for k in part.keys),
        c.entry,
        c.entry_step,
        c.depth,
        (or_(*excluded) if excluded else false()).label("excluded"),
        c.completion,
        *(c[time(k)] for k in range(n)),  # unsorted until `best`
    ).subquery("funnel_entries")


def entries(spec: FunnelSpec, n: int, part: Partitioned) -> Subquery:
    windows = _Windows(part.keys, strict=spec.order == "strict")
    if spec.order == "unordered":
        return _unordered_entries(spec, n, part, windows)
    return _ordered_entries(spec, n, part, windows)


def best(
    spec: FunnelSpec,
    n: int,
    found: Subquery,
    keys: Sequence[str],
    period: ColumnElement[Any] | None = None,
) -> Subquery:
    """Each run's (with `period`, each run's per-period) best entry; runs whose best is excluded drop.

    The best entry has the greatest ranking array [depth, clean, -completion, entry, entry step,
    t0..t{n-1}]: most steps, then not excluded, then finishing first, then the latest entry (in the
    rows' order), then the latest step times. Times are epoch seconds in float8, which keeps every
    microsecond of this era apart. One aggregate, instead of sorting every entry."""
    group: list[ColumnElement[Any]] = [found.c[k] for k in keys]
    if period is not None:
        group.append(period.label("period"))
    c = found.c
    ranking = array[Any](
        [
            cast(c.depth, Float),
            case((c.excluded, literal(0.0)), else_=literal(1.0)),
            -epoch(c.completion),
            epoch(c.entry),
            cast(c.entry_step, Float),
            *(func.coalesce(epoch(c[time(k)]), literal(0.0)) for k in range(n)),
        ],
        type_=Float,
    )
    ranked = select(*group, func.max(ranking).label("ranking")).group_by(*group).subquery("funnel_ranked")
    r = ranked.c.ranking
    times = [case((r[6 + k] != 0, func.to_timestamp(r[6 + k]))) for k in range(n)]
    outer = [ranked.c[k] for k in keys] + ([ranked.c.period] if period is not None else [])
    chosen = select(
        *outer,
        cast(r[1], Integer).label("depth"),
        func.to_timestamp(r[4]).label("entry"),
        *(value.label(time(k)) for k, value in enumerate(times)),
    ).where(r[2] == 1)
    if spec.order != "unordered":
        return chosen.subquery("funnel_runs_best")
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
