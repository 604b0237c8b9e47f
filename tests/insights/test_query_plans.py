"""Insight reads reuse the plan of a stored query; the clock and every input still count."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from app.models import Project
from app.query.api import TeamContext
from app.services import insight_queries

QUERY = {
    "kind": "InsightVizNode",
    "source": {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}]},
}
NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def project(**fields: object) -> Project:
    return Project(
        **{"id": 4242, "timezone": "UTC", "week_start_day": 0, "test_account_filters": [], **fields}
    )


def test_a_plan_is_reused_yet_each_read_resolves_its_own_dates() -> None:
    first = insight_queries.prepare(project(), QUERY, None, now=NOW)
    hits = insight_queries._plan.cache_info().hits
    later = insight_queries.prepare(project(), QUERY, None, now=NOW + timedelta(days=3))
    assert insight_queries._plan.cache_info().hits == hits + 1
    assert later.cache_key == first.cache_key
    assert later.date_to - first.date_to == timedelta(days=3)


def test_team_settings_and_filters_make_another_plan() -> None:
    base = insight_queries.prepare(project(), QUERY, None, now=NOW).cache_key
    variants = [
        insight_queries.prepare(project(timezone="Asia/Kolkata"), QUERY, None, now=NOW),
        insight_queries.prepare(project(week_start_day=1), QUERY, None, now=NOW),
        insight_queries.prepare(project(id=4243), QUERY, None, now=NOW),
        insight_queries.prepare(project(), QUERY, {"date_from": "-30d"}, now=NOW),
    ]
    keys = {v.cache_key for v in variants}
    assert base not in keys
    assert len(keys) == len(variants)


def test_team_json_holds_every_field_the_plan_depends_on() -> None:
    """The plan is keyed and rebuilt from `to_json()`: a field left out would share plans across teams."""
    team = TeamContext(id=7, timezone="Asia/Tokyo", week_start_day=1, test_account_filters=[{"key": "email"}])
    assert TeamContext(**team.to_json()) == team
    assert set(team.to_json()) == {f.name for f in dataclasses.fields(TeamContext)}
