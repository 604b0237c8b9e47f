"""The engine's entry points, for the `/query` router, insights and the worker.

    node = parse_query(payload)                        # 400 on unknown kind / invalid fields
    prepared = prepare_query(node, TeamContext.from_project(project), now=utcnow())
    body = await prepared.run(connection)              # or hand `prepared` to app.execution.runner

`prepare_query` is pure (normalize, dashboard overrides, date range, cache key); it is `plan_query`
(all but the date range, which depends on `now`) then `QueryPlan.at(now)`. Everything needing the
database (the first event for `all`, action definitions, regex validation, the statements) happens in
`run`. `prepared.job` holds what a worker needs to prepare the same query again (`prepare_from_job`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from app.errors import ValidationError
from app.execution.runner import PreparedQuery
from app.models.identity import Project
from app.query import dates, execute, normalize, overrides
from app.query.ir import EMPTY_GROUP, QueryIR, cache_dict
from app.query.kinds import RUNNERS, Plan
from app.query.parse import QueryNode, parse_query
from app.query.source import CompileContext, reads_any_event

ENGINE_VERSION = 2  # bump whenever results for the same query change

__all__ = [
    "ENGINE_VERSION",
    "QueryNode",
    "QueryPlan",
    "TeamContext",
    "node_from_job",
    "parse_query",
    "plan_query",
    "prepare_from_job",
    "prepare_query",
]


@dataclass(frozen=True)
class TeamContext:
    id: int
    timezone: str = "UTC"
    week_start_day: int = 0
    test_account_filters: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_project(cls, project: Project) -> TeamContext:
        return cls(
            id=project.id,
            timezone=project.timezone or "UTC",
            week_start_day=project.week_start_day or 0,
            test_account_filters=list(project.test_account_filters or []),
        )

    def to_json(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies the filters, and every insight read builds this.
        return {
            "id": self.id,
            "timezone": self.timezone,
            "week_start_day": self.week_start_day,
            "test_account_filters": self.test_account_filters,
        }


def cache_key(ir: QueryIR, team: TeamContext, filters_override: Mapping[str, Any] | None) -> str:
    payload = {
        "kind": ir.kind,
        "query": cache_dict(ir),
        "team_id": team.id,
        "timezone": team.timezone,
        "week_start_day": team.week_start_day,
        "test_account_filters": team.test_account_filters if ir.filter_test_accounts else None,
        "filters_override": filters_override or None,
        "version": ENGINE_VERSION,
    }
    digest = hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()
    return f"query_{ir.kind}_{digest[:40]}"


def _regexes(ir: QueryIR, plan_ctx: CompileContext) -> list[str]:
    found = [p for group in (ir.properties, plan_ctx.test_accounts) for p, _ in normalize.regexes(group)]
    for series in ir.entities:
        found += [p for p, _ in normalize.regexes(series.properties)]
    if ir.paths is not None:
        found += [rule.regex for rule in ir.paths.cleaning]
    for action in plan_ctx.actions.values():
        found += action.regexes()
        for step in action.steps:
            found += [p for p, _ in normalize.regexes(step.properties)]
    return found


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """Everything about a query that doesn't depend on the clock: built once per (query, team,
    filters) and reusable (`plan_query`; insights keep plans of their stored queries)."""

    ir: QueryIR
    team: TeamContext
    base_ctx: CompileContext
    cache_key: str
    job: dict[str, Any]

    def at(self, now: datetime) -> PreparedQuery:
        """The query as of `now`: its date range resolved (and validated) and its `run`."""
        ir, team = self.ir, self.team
        runner = RUNNERS[ir.kind]

        def resolve(first_event: datetime | None) -> dates.ResolvedRange:
            resolved = dates.resolve(
                ir.date_range,
                interval=ir.interval,
                now=now,
                timezone=team.timezone,
                week_start_day=team.week_start_day,
                first_event=first_event,
            )
            return dataclasses.replace(resolved, interval_count=ir.interval_count or 1)

        needs_first_event = dates.needs_first_event(ir.date_range)
        known = resolve(now)  # validates the dates now; `all` is re-resolved from the first event in run()
        known.buckets() if not needs_first_event else None

        async def run(connection: AsyncConnection) -> dict[str, Any]:
            started = time.perf_counter()
            await execute.tune_session(connection)
            rng = resolve(await execute.first_event_time(connection, team.id)) if needs_first_event else known
            rng.buckets()
            actions = await execute.load_actions(connection, team.id, ir.action_ids)
            ctx = dataclasses.replace(self.base_ctx, actions=actions)
            if reads_any_event(ir, ctx):
                ctx = dataclasses.replace(ctx, event_names=await execute.event_names(connection, team.id))
            series = tuple(
                dataclasses.replace(s, name=actions[s.action_id].name)
                if s.action_id is not None and s.action_id in actions
                else s
                for s in ir.series
            )
            await execute.check_regexes(connection, _regexes(ir, ctx))
            body = await runner(
                connection, Plan(ir=dataclasses.replace(ir, series=series), ctx=ctx, range=rng)
            )
            body.setdefault("hasMore", False)
            body["timezone"] = team.timezone
            body["resolved_date_range"] = rng.to_json()
            body["timings"] = [{"k": "./query", "t": round(time.perf_counter() - started, 6)}]
            return body

        return PreparedQuery(
            team_id=team.id,
            kind=ir.kind,
            cache_key=self.cache_key,
            timezone=team.timezone,
            interval=ir.interval,
            date_to=known.date_to,
            range_days=None if needs_first_event else known.days,
            run=run,
            job=self.job,
        )


def plan_query(
    node: QueryNode, team: TeamContext, filters_override: Mapping[str, Any] | None = None
) -> QueryPlan:
    """Normalize, apply dashboard overrides, compute the cache key: 400 for what can't run."""
    ir = overrides.apply(normalize.normalize(node), filters_override)
    if ir.kind not in RUNNERS:
        raise ValidationError(f"{ir.kind} is not supported yet.", code="invalid_choice", attr="kind")
    test_accounts = (
        normalize.properties_from_json(team.test_account_filters, "filterTestAccounts")
        if ir.filter_test_accounts
        else EMPTY_GROUP
    )
    base_ctx = CompileContext(
        team_id=team.id,
        timezone=team.timezone,
        week_start_day=team.week_start_day,
        test_accounts=test_accounts,
    )
    job = {
        "query": node.model_dump(mode="json", by_alias=True, exclude_none=True),
        "team": team.to_json(),
        "filters_override": dict(filters_override) if filters_override else None,
    }
    return QueryPlan(ir, team, base_ctx, cache_key(ir, team, filters_override), job)


def prepare_query(
    node: QueryNode,
    team: TeamContext,
    *,
    now: datetime,
    filters_override: Mapping[str, Any] | None = None,
) -> PreparedQuery:
    return plan_query(node, team, filters_override).at(now)


def node_from_job(job: Mapping[str, Any]) -> QueryNode:
    return parse_query(job["query"])


def prepare_from_job(job: Mapping[str, Any], now: datetime) -> PreparedQuery:
    team = TeamContext(**job["team"])
    return prepare_query(node_from_job(job), team, now=now, filters_override=job.get("filters_override"))
