"""Queries reading events of any name get the project's event names (`execute.event_names`) as one
index range each (`source.any_event_prefilter`); the names are the project's own, bound, and capped."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine

from app.query import dates, execute, normalize
from app.query.kinds import funnel_sql
from app.query.parse import parse_query
from app.query.source import CompileContext, reads_any_event
from tests.factories.events import EventRow, insert_events
from tests.factories.identity import Team

NOW = datetime(2024, 3, 14, tzinfo=UTC)
NAMED = {"kind": "EventsNode", "event": "a"}
ANY = {"kind": "EventsNode"}


def trends(*series: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "TrendsQuery", "series": list(series)}


def funnel(order: str = "ordered", *steps: dict[str, Any]) -> dict[str, Any]:
    series = list(steps) or [NAMED, {"kind": "EventsNode", "event": "b"}]
    return {"kind": "FunnelsQuery", "series": series, "funnelsFilter": {"funnelOrderType": order}}


def paths(*kinds: str) -> dict[str, Any]:
    return {"kind": "PathsQuery", "pathsFilter": {"includeEventTypes": list(kinds)}}


async def test_names_are_the_projects_own_and_capped(
    engine: AsyncEngine, team: Team, other_team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = uuid.uuid4()
    ours = ["b", "a", "b", "$pageview", "c", "a"]
    await insert_events(
        engine, team.id, [EventRow(e, NOW - timedelta(minutes=i), person) for i, e in enumerate(ours)]
    )
    await insert_events(engine, other_team.id, [EventRow("theirs", NOW, uuid.uuid4())])
    async with engine.connect() as connection:
        names = await execute.event_names(connection, team.id)
        assert names is not None
        assert sorted(names) == sorted(set(ours))
        assert len(names) == len(set(ours))
        assert await execute.event_names(connection, other_team.id) == ("theirs",)
        monkeypatch.setattr(execute, "MAX_EVENT_NAMES", len(set(ours)) - 1)
        assert await execute.event_names(connection, team.id) is None  # too many: scan without them


@pytest.mark.parametrize(
    ("query", "reads_any"),
    [
        (trends(NAMED), False),
        (trends(NAMED, ANY), True),
        (funnel(), False),
        (funnel("unordered"), False),
        (funnel("strict"), True),  # any event in between breaks the order
        (funnel("ordered", NAMED, ANY), True),
        (paths("$pageview", "$screen"), False),
        (paths("custom_event"), True),
        (paths(), True),
    ],
)
def test_which_queries_read_any_event(query: dict[str, Any], reads_any: bool) -> None:
    ir = normalize.normalize(parse_query(query))
    assert reads_any_event(ir, CompileContext(team_id=1, timezone="UTC", week_start_day=0)) is reads_any


def test_a_strict_funnel_binds_every_name() -> None:
    mark = "n'zq\"--"
    ir = normalize.normalize(parse_query(funnel("strict")))
    rng = dates.resolve(ir.date_range, interval=ir.interval, now=NOW, timezone="UTC", week_start_day=0)

    def compiled(names: tuple[str, ...] | None) -> tuple[str, list[Any]]:
        ctx = CompileContext(team_id=1, timezone="UTC", week_start_day=0, event_names=names)
        sql = funnel_sql.steps_statement(ir, ctx, rng).compile(dialect=postgresql.dialect())
        return str(sql), list(sql.params.values())

    without_sql, without_params = compiled(None)
    with_sql, with_params = compiled(("a", "b", mark))
    assert mark not in with_sql
    assert ["a", "b", mark] in with_params
    assert ["a", "b", mark] not in without_params
    assert with_sql.count("= ANY (") == without_sql.count("= ANY (") + 1
