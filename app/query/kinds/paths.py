"""PathsQuery: the most frequent step-to-step transitions of actors' sessions, as PostHog's paths.

- Path items: a $pageview is its `$current_url` (else `$pathname`) without a trailing slash, a $screen
  its `$screen_name`, any other event its name. `localPathCleaningFilters` rewrite items with
  their regexes (every match, in order); `pathGroupings` (`*` wildcards, matched anywhere) replace
  an item by the first grouping it matches; `excludeEvents` then drops items.
- An actor's items, in time order (ties in the items' byte order: events at the same instant with
  the same item are interchangeable), are split into sessions at gaps of 30 minutes or more;
  repeats of the same item in a row collapse into their last occurrence.
- `startPoint` keeps each session from its first occurrence on, `endPoint` up to its first
  occurrence; sessions without the point are dropped. At most `stepLimit` items remain: the first
  ones, the last ones before `endPoint`, or, with both points, the first and last halves around "...".
- Edges `N_item → N+1_item` are counted over sessions, with the average time between the two
  (milliseconds); the `edgeLimit` heaviest (within `minEdgeWeight`/`maxEdgeWeight`) are returned,
  keeping only those reachable from a first step, as PostHog does.

The windows behind the sessions run in one Postgres process, so the actors are split into shares
(by a hash of the person) that run side by side on connections of their own, and their edges are
added up here (`execute.fetch_side_by_side`, `top_edges`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Interval,
    Row,
    Select,
    String,
    Subquery,
    Text,
    and_,
    any_,
    case,
    func,
    literal,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import Over
from sqlalchemy.sql.functions import FunctionElement

from app.query import execute, source
from app.query.dates import ResolvedRange
from app.query.ir import QueryIR
from app.query.kinds.base import Plan
from app.query.properties import uses_persons
from app.query.specs import PathsSpec
from app.query.sql import EVENTS, epoch, prop_text

SESSION_GAP = timedelta(minutes=30)
ELLIPSIS = "..."


def spec_of(ir: QueryIR) -> PathsSpec:
    assert ir.paths is not None
    return ir.paths


def wildcard_regex(pattern: str) -> str:
    """A grouping like `/product/*` as a Postgres regex: literal text, `*` for anything."""
    literal_parts = ["".join(f"\\{c}" if not c.isalnum() else c for c in part) for part in pattern.split("*")]
    return ".*".join(literal_parts)


def _queried(spec: PathsSpec, event: str) -> bool:
    if not spec.include_event_types:
        return event not in spec.exclude_events
    return event in spec.include_event_types


def _raw_item(spec: PathsSpec) -> ColumnElement[str]:
    url = func.coalesce(
        prop_text("event", "$current_url"), prop_text("event", "$pathname"), literal("", String)
    )
    page = _without_trailing_slash(url)
    if spec.include_event_types == ("$pageview",):
        # No test of the name, which the page-view index (`app.models.events`) doesn't hold.
        item: ColumnElement[str] = page
    else:
        whens: list[tuple[ColumnElement[bool], ColumnElement[str]]] = []
        if _queried(spec, "$pageview"):
            whens.append((EVENTS.c.event == literal("$pageview", String), page))
        if _queried(spec, "$screen"):
            screen = func.coalesce(prop_text("event", "$screen_name"), literal("", String))
            whens.append((EVENTS.c.event == literal("$screen", String), screen))
        item = case(*whens, else_=EVENTS.c.event) if whens else EVENTS.c.event
    for rule in spec.cleaning:
        item = func.regexp_replace(
            item, literal(rule.regex, String), literal(rule.alias, String), literal("g")
        )
    return item


def _without_trailing_slash(url: ColumnElement[str]) -> ColumnElement[str]:
    """`url` less one trailing slash, unless it is all of it (cheaper than a regex on every view)."""
    slashed = and_(func.right(url, 1) == literal("/", String), func.length(url) > 1)
    return case((slashed, func.left(url, -1)), else_=url)


def _reads(spec: PathsSpec, event: str) -> bool:
    kinds = spec.include_event_types
    return not kinds or event in kinds or ("custom_event" in kinds and not event.startswith("$"))


def _event_types(spec: PathsSpec, ctx: source.CompileContext) -> ColumnElement[bool] | None:
    if ctx.event_names is not None:  # as names: one index range each (`source.any_event_prefilter`)
        names = [name for name in ctx.event_names if _reads(spec, name)]
        return EVENTS.c.event == any_(literal(names, ARRAY(Text)))
    kinds = []
    for kind in spec.include_event_types:
        if kind in ("$pageview", "$screen"):
            kinds.append(EVENTS.c.event == literal(kind, String))
        elif kind == "custom_event":
            kinds.append(not_(EVENTS.c.event.startswith("$", autoescape=True)))
    return or_(*kinds) if kinds else None


def _items(ir: QueryIR, ctx: source.CompileContext, rng: ResolvedRange, share: Share) -> Subquery:
    spec = spec_of(ir)
    where = [*source.query_conditions(ir, ctx, rng.date_from, rng.date_to), EVENTS.c.person_id.is_not(None)]
    if share.of > 1:
        where.append(_actor_share(EVENTS.c.person_id, share.of) == literal(share.index))
    if (types := _event_types(spec, ctx)) is not None:
        where.append(types)
    join = uses_persons(ir.properties) or (ir.filter_test_accounts and uses_persons(ctx.test_accounts))
    raw = (
        select(
            EVENTS.c.person_id.label("pid"),
            EVENTS.c.timestamp.label("ts"),
            _raw_item(spec).label("cleaned"),
        )
        .select_from(source.from_clause(join))
        .where(*where)
        .subquery("path_events")
    )
    item: ColumnElement[str] = raw.c.cleaned
    if spec.groupings:
        item = case(
            *(
                (raw.c.cleaned.bool_op("~")(literal(wildcard_regex(g), String)), literal(g, String))
                for g in spec.groupings
            ),
            else_=raw.c.cleaned,
        )
    # Collated "C" where it is made: the same order in any database, and no COLLATE in the sorts
    # and windows above, which kept Postgres from merging their subqueries (1M events: 100 ms).
    grouped = select(raw.c.pid, raw.c.ts, item.collate("C").label("item")).subquery("path_items")
    query = select(*grouped.c)
    if spec.exclude_events:
        query = query.where(not_(grouped.c.item == any_(literal(list(spec.exclude_events), ARRAY(Text)))))
    # OFFSET 0 keeps Postgres from pulling this subquery up into the windows above: pulled up, it
    # sorted whole events (properties included, ~900 bytes a row, spilling to disk) and only then
    # computed their items; fenced, it sorts (pid, ts, item) rows in memory. Sorted inside the
    # fence, in the windows' order, the scan, the items and the sort run in parallel workers
    # (1M events: 560 -> 400 ms to the sorted rows; shares run side by side use no workers, see
    # `execute.fetch_side_by_side`); outside, the leader did them alone. Page views
    # need no uuid (the tie-break) nor JSON, so they are read from their own index alone.
    return query.order_by(grouped.c.pid, *_in_order(grouped)).offset(0).subquery("path_kept")


def _in_order(rows: Subquery) -> list[ColumnElement[Any]]:
    """An actor's rows in time order, then in the items' byte order (`_items`)."""
    return [rows.c.ts, rows.c.item]


@dataclass(frozen=True, slots=True)
class Share:
    """Share `index` of `of` disjoint shares of the actors (`execute.fetch_side_by_side`)."""

    index: int = 0
    of: int = 1


def _actor_share(person: ColumnElement[Any], shares: int) -> ColumnElement[Any]:
    return func.uuid_hash(person).op("&")(literal(0x7FFFFFFF)) % literal(shares)


def _compact(items: Subquery) -> Subquery:
    """(pid, session, pos, ts, item): sessions split at 30-minute gaps, repeats collapsed."""
    previous = func.lag(items.c.ts).over(partition_by=items.c.pid, order_by=_in_order(items))
    gaps = select(*items.c, previous.label("previous")).subquery("path_gaps")
    starts = case(
        (or_(gaps.c.previous.is_(None), gaps.c.ts - gaps.c.previous >= literal(SESSION_GAP, Interval())), 1),
        else_=0,
    )

    # The session number and the next item in the session come from one window over the person's
    # rows (the next row is in the session unless it starts one), so Postgres needn't re-sort the
    # rows by (person, session) first. A ROWS frame: the default RANGE frame compares every row with
    # the next for peers (1M events: 25-50 ms of the running sum).
    def by_person(function: FunctionElement[Any]) -> Over[Any]:
        return function.over(partition_by=gaps.c.pid, order_by=_in_order(gaps), rows=(None, 0))

    following = case((by_person(func.lead(starts)) == 0, by_person(func.lead(gaps.c.item))))
    nexts = select(
        gaps.c.pid,
        gaps.c.ts,
        gaps.c.item,
        by_person(func.sum(starts)).label("session"),
        following.label("next_item"),
    ).subquery("path_next")
    kept = (
        select(*nexts.c)
        .where(nexts.c.item != func.coalesce(nexts.c.next_item, literal("", String)))
        .subquery("path_collapsed")
    )

    def in_session(function: FunctionElement[Any]) -> Over[Any]:
        return function.over(partition_by=[kept.c.pid, kept.c.session], order_by=_in_order(kept))

    # The previous item and time come with the position, from the same window: without start or end
    # points the steps are the positions, so `statement` needn't sort and window the rows again.
    return select(
        kept.c.pid,
        kept.c.session,
        kept.c.ts,
        kept.c.item,
        in_session(func.row_number()).label("pos"),
        in_session(func.lag(kept.c.item)).label("previous_item"),
        in_session(func.lag(kept.c.ts)).label("previous_ts"),
    ).subquery("path_compact")


def _first_position(
    compact: Subquery, point: str, after: ColumnElement[Any] | None = None
) -> ColumnElement[Any]:
    hit = compact.c.item == literal(point, String)
    if after is not None:
        hit = and_(hit, compact.c.pos >= after)
    return func.min(case((hit, compact.c.pos))).over(partition_by=[compact.c.pid, compact.c.session])


def _limited(spec: PathsSpec, compact: Subquery) -> Subquery:
    """(pid, session, step, ts, item): the items kept for each session, numbered from 1."""
    limit = spec.step_limit
    c = compact.c
    if spec.start_point and spec.end_point:
        starts = select(*c, _first_position(compact, spec.start_point).label("first")).subquery("path_starts")
        ends = select(
            *starts.c, _first_position(starts, spec.end_point, starts.c.first).label("last")
        ).subquery("path_ends")
        e = ends.c
        length = e.last - e.first + 1
        rel = e.pos - e.first + 1
        half = limit // 2
        inside = and_(e.first.is_not(None), e.last.is_not(None), e.pos >= e.first, e.pos <= e.last)
        short = select(e.pid, e.session, rel.label("step"), e.ts, e.item).where(inside, length <= limit)
        head = select(e.pid, e.session, rel.label("step"), e.ts, e.item).where(
            inside, length > limit, rel <= half
        )
        dots = select(
            e.pid, e.session, literal(half + 1).label("step"), e.ts, literal(ELLIPSIS, String)
        ).where(inside, length > limit, rel == half + 1)
        tail = select(e.pid, e.session, (rel - length + 2 * half + 1).label("step"), e.ts, e.item).where(
            inside, length > limit, rel > length - half
        )
        return union_all(short, head, dots, tail).subquery("path_limited")
    if spec.start_point:
        marked = select(*c, _first_position(compact, spec.start_point).label("first")).subquery("path_marked")
        m = marked.c
        step = m.pos - m.first + 1
        return (
            select(m.pid, m.session, step.label("step"), m.ts, m.item)
            .where(m.first.is_not(None), m.pos >= m.first, step <= limit)
            .subquery("path_limited")
        )
    if spec.end_point:
        marked = select(*c, _first_position(compact, spec.end_point).label("last")).subquery("path_marked")
        m = marked.c
        skipped = func.greatest(m.last - limit, literal(0))
        return (
            select(m.pid, m.session, (m.pos - skipped).label("step"), m.ts, m.item)
            .where(m.last.is_not(None), m.pos <= m.last, m.pos > m.last - limit)
            .subquery("path_limited")
        )
    return (
        select(c.pid, c.session, c.pos.label("step"), c.ts, c.item, c.previous_item, c.previous_ts)
        .where(c.pos <= limit)
        .subquery("path_limited")
    )


def statement(
    ir: QueryIR, ctx: source.CompileContext, rng: ResolvedRange, share: Share = Share()
) -> Select[Any]:
    """Rows (step, previous_item, item, value, seconds): each edge of the share's actors, with how many
    sessions took it and their seconds in all (`top_edges` adds the shares up)."""
    spec = spec_of(ir)
    steps = _limited(spec, _compact(_items(ir, ctx, rng, share)))
    if "previous_item" in steps.c:  # the steps are the session's positions (`_limited`)
        previous_item: ColumnElement[Any] = steps.c.previous_item
        previous_ts: ColumnElement[Any] = steps.c.previous_ts
    else:
        run = [steps.c.pid, steps.c.session]
        previous_item = func.lag(steps.c.item).over(partition_by=run, order_by=steps.c.step)
        previous_ts = func.lag(steps.c.ts).over(partition_by=run, order_by=steps.c.step)
    pairs = select(
        steps.c.step,
        previous_item.label("previous_item"),
        steps.c.item,
        (steps.c.ts - previous_ts).label("elapsed"),
    ).subquery("path_pairs")
    p = pairs.c
    return (
        select(
            p.step,
            p.previous_item,
            p.item,
            func.count().label("value"),
            func.sum(epoch(p.elapsed)).label("seconds"),
        )
        .where(p.step > 1)
        .group_by(p.step, p.previous_item, p.item)
    )


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    value: int
    average_seconds: float


def top_edges(spec: PathsSpec, shares: Iterable[Iterable[Row[Any]]]) -> list[Edge]:
    """The shares' edges added up: within `minEdgeWeight`/`maxEdgeWeight`, heaviest first (then by
    their keys' bytes), at most `edgeLimit`."""
    totals: dict[tuple[int, str, str], list[float]] = {}
    for rows in shares:
        for row in rows:
            total = totals.setdefault((row.step, row.previous_item, row.item), [0, 0.0])
            total[0] += row.value
            total[1] += row.seconds or 0.0
    edges = [
        Edge(f"{step - 1}_{previous}", f"{step}_{item}", int(value), seconds / value)
        for (step, previous, item), (value, seconds) in totals.items()
        if value >= (spec.min_edge_weight or 0)
        and (not spec.max_edge_weight or value <= spec.max_edge_weight)
    ]
    edges.sort(key=lambda e: (-e.value, e.source.encode(), e.target.encode()))
    return edges[: spec.edge_limit]


def reachable(edges: list[tuple[str, str]]) -> set[str]:
    """Sources reachable from a first step (`1_...`) through the returned edges."""
    children: dict[str, list[str]] = defaultdict(list)
    for source_key, target in edges:
        children[source_key].append(target)
    stack = [s for s, _ in edges if s.startswith("1_")]
    seen: set[str] = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(children[node])
    return seen


async def run(connection: AsyncConnection, plan: Plan) -> dict[str, Any]:
    await execute.use_sort_memory(connection)
    # Its windows run in one Postgres process: shares of the actors, side by side, take less time
    # (1M events, 2 cores: 480-530 -> about 320 ms in plain SQL).
    shares = execute.SHARES
    statements = [statement(plan.ir, plan.ctx, plan.range, Share(k, shares)) for k in range(shares)]
    edges = top_edges(spec_of(plan.ir), await execute.fetch_side_by_side(connection, statements))
    seen = reachable([(edge.source, edge.target) for edge in edges])
    return {
        "results": [
            {
                "source": edge.source,
                "target": edge.target,
                "value": edge.value,
                "average_conversion_time": edge.average_seconds * 1000.0,
            }
            for edge in edges
            if edge.source in seen
        ]
    }
