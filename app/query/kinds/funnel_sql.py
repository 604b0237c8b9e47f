"""FunnelsQuery compiler: the statements behind the steps, time_to_convert and trends visualisations.

All three start from `runs()`: each actor's (or actor-and-value's) best funnel entry with its
breakdown `value` (text[], NULL without breakdown), `depth` and step times `t0..`. Pure: builds
SQLAlchemy Core, never executes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Integer,
    Select,
    Subquery,
    Text,
    case,
    cast,
    func,
    literal,
    null,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from app.query import source
from app.query.breakdowns import OTHER
from app.query.dates import ResolvedRange
from app.query.ir import QueryIR
from app.query.kinds import funnel_chains, funnel_rows
from app.query.kinds.funnel_chains import time
from app.query.sql import bucket, epoch

AUTO_BINS_MAX = 60
FALLBACK_BIN_SECONDS = 60


def count(k: int) -> str:
    return f"count{k}"


def _seconds(later: ColumnElement[Any], earlier: ColumnElement[Any]) -> ColumnElement[Any]:
    return epoch(later - earlier)


def _valued(ir: QueryIR, chosen: Subquery, part: funnel_rows.Partitioned) -> Subquery:
    """`chosen` runs with their breakdown value (`part`; for first/last touch NULL when the actor
    never had one, which is the null value)."""
    if ir.breakdown is None:
        value: ColumnElement[Any] = cast(null(), ARRAY(Text))
    elif part.attributed:
        value = func.coalesce(chosen.c.part, literal(funnel_rows.null_value(ir), ARRAY(Text)))
    else:
        value = chosen.c.part
    return select(*chosen.c, value.label("value")).subquery("funnel_valued")


def runs(
    ir: QueryIR,
    ctx: source.CompileContext,
    rng: ResolvedRange,
    period: bool = False,
    *,
    converting: bool = False,
) -> Subquery:
    """Best entry per run (per run and entry period with `period`), with `value`. With `converting`,
    only the runs of actors reaching a later step (`funnel_rows.walks_only_converting`)."""
    spec = funnel_rows.spec_of(ir)
    table = funnel_rows.rows(ir, ctx, rng, converting=converting)
    part = funnel_rows.partitioned(ir, table)
    found = funnel_chains.entries(spec, len(ir.series), part)
    entry_period = bucket(found.c.entry, rng.interval, rng.timezone, rng.week_start_day) if period else None
    chosen = funnel_chains.best(spec, len(ir.series), found, funnel_chains.run_keys(part), entry_period)
    return _valued(ir, chosen, part)


def _per_step(run: Subquery | CTE, n: int) -> list[ColumnElement[Any]]:
    columns: list[ColumnElement[Any]] = []
    for k in range(n):
        reached = run.c.depth > k
        columns.append(func.count().filter(reached).label(count(k)))
        if k:
            seconds = _seconds(run.c[time(k)], run.c[time(k - 1)])
            columns.append(func.avg(seconds).filter(reached).label(f"avg{k}"))
            columns.append(
                func.percentile_cont(0.5).within_group(seconds).filter(reached).label(f"median{k}")
            )
    return columns


def steps_statement(ir: QueryIR, ctx: source.CompileContext, rng: ResolvedRange) -> Select[Any]:
    """One row per breakdown value (one row in all without breakdown): per-step counts and times.

    Values beyond `breakdown_limit` (ranked by the last step's count, then the one before...) are
    merged into `$$_posthog_breakdown_other_$$`; `ranked_values` tells how many values there were."""
    n = len(ir.series)
    if ir.breakdown is None:
        converting = funnel_rows.walks_only_converting(ir)
        per_step = _per_step(runs(ir, ctx, rng, converting=converting), n)
        if converting:
            per_step[0] = funnel_rows.entered(ir, ctx, rng).label(count(0))
        return select(*per_step, literal(0).label("ranked_values"), literal(False).label("is_other"))
    # Read by the ranking and the merge: a CTE computes the funnel once (a subquery, twice).
    run = runs(ir, ctx, rng).element.cte("funnel_runs")
    per_value = (
        select(run.c.value, *(func.count().filter(run.c.depth > k).label(count(k)) for k in range(n)))
        .group_by(run.c.value)
        .subquery("per_value")
    )
    ranked = select(
        per_value.c.value,
        func.row_number()
        .over(order_by=[*(per_value.c[count(k)].desc() for k in range(n - 1, -1, -1)), per_value.c.value])
        .label("rank"),
        func.count().over().label("ranked_values"),
    ).subquery("ranked_values")
    other = literal([OTHER] * len(ir.breakdown.items), ARRAY(Text))
    is_other = ranked.c.rank > ir.breakdown.limit
    label = case((is_other, other), else_=ranked.c.value)
    return (
        select(
            label.label("value"),
            is_other.label("is_other"),
            func.max(ranked.c.ranked_values).label("ranked_values"),
            *_per_step(run, n),
        )
        .select_from(run.join(ranked, ranked.c.value == run.c.value))
        .group_by(label, is_other)
    )


def time_to_convert_statement(ir: QueryIR, ctx: source.CompileContext, rng: ResolvedRange) -> Select[Any]:
    """Rows (n, mean, low, width, bins, bin, persons): a histogram of from→to conversion times.

    As PostHog: times are binned from floor(min) in `bins` equal widths of ceil((max - min) / bins)
    seconds (60 when that is 0); `bins` is `binCount`, or cbrt(n) clamped to 1..60."""
    spec = funnel_rows.spec_of(ir)
    run = runs(ir, ctx, rng, converting=funnel_rows.walks_only_converting(ir))  # to_step > 0
    times = (
        select(_seconds(run.c[time(spec.to_step)], run.c[time(spec.from_step)]).label("seconds"))
        .where(run.c.depth > spec.to_step)
        .cte("conversion_times")  # read by the stats and the binning: computed once
    )
    stats = select(
        func.count().label("n"),
        func.avg(times.c.seconds).label("mean"),
        func.floor(func.min(times.c.seconds)).label("low"),
        func.ceil(func.max(times.c.seconds)).label("high"),
    ).subquery("conversion_stats")
    bins: ColumnElement[Any] = (
        literal(spec.bin_count)
        if spec.bin_count is not None
        else cast(func.least(AUTO_BINS_MAX, func.greatest(1, func.ceil(func.cbrt(stats.c.n)))), Integer)
    )
    raw_width = func.ceil((stats.c.high - stats.c.low) / bins)
    params = select(
        stats.c.n,
        stats.c.mean,
        stats.c.low,
        bins.label("bins"),
        case((raw_width > 0, raw_width), else_=literal(FALLBACK_BIN_SECONDS)).label("width"),
    ).subquery("histogram")
    index = cast(func.floor((times.c.seconds - params.c.low) / params.c.width), Integer)
    return (
        select(*params.c, index.label("bin"), func.count(times.c.seconds).label("persons"))
        .select_from(params.outerjoin(times, true()))
        .group_by(*params.c, index)
    )


def trends_statement(ir: QueryIR, ctx: source.CompileContext, rng: ResolvedRange) -> Select[Any]:
    """Rows (value, period, reached_from, reached_to) per breakdown value and entry period."""
    spec = funnel_rows.spec_of(ir)
    run = runs(ir, ctx, rng, period=True)
    return select(
        run.c.value,
        run.c.period,
        func.count().filter(run.c.depth > spec.from_step).label("reached_from"),
        func.count().filter(run.c.depth > spec.to_step).label("reached_to"),
    ).group_by(run.c.value, run.c.period)
