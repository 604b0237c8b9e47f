"""Element statistics and values over events' `elements_chain` (pure: returns Core statements).

Stats group one project's click events by (chain, event type) in a single aggregate over the
`(team_id, event, timestamp)` index range; only the page's chains (`limit + 1` rows, the extra one
telling whether a next page exists) leave Postgres, and are parsed into elements in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Select, String, Text, any_, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY

from app.query.ir import PropertyGroup
from app.query.properties import group_condition, uses_persons
from app.query.source import from_clause
from app.query.sql import EVENTS

CLICK_EVENTS = ("$autocapture", "$rageclick", "$dead_click")
VALUE_KEYS = ("attr_id", "href", "tag_name", "text")
VALUES_SCANNED = 100_000
VALUES_RETURNED = 100
# The leading tag of a chain (the clicked element's), and a `key="value"` attribute of any element.
_TAG_PATTERN = r"^([-_a-zA-Z0-9]*)[.:]"


def _attribute_pattern(key: str) -> str:
    return f'[:"]{key}="((?:[^"\\\\]|\\\\.)*)"'


@dataclass(frozen=True, slots=True)
class StatsRequest:
    team_id: int
    timezone: str
    events: tuple[str, ...]
    date_from: datetime
    date_to: datetime
    properties: PropertyGroup
    limit: int
    offset: int


def stats_statement(request: StatsRequest) -> Select[Any]:
    """(elements_chain, event, count) rows, most clicked first; `limit + 1` of them."""
    where = [
        EVENTS.c.team_id == literal(request.team_id),
        EVENTS.c.event == any_(literal(list(request.events), ARRAY(Text))),
        EVENTS.c.timestamp >= literal(request.date_from, DateTime(timezone=True)),
        EVENTS.c.timestamp <= literal(request.date_to, DateTime(timezone=True)),
        EVENTS.c.elements_chain != literal("", String),
    ]
    if (condition := group_condition(request.properties, request.timezone)) is not None:
        where.append(condition)
    count = func.count().label("occurrences")
    return (
        select(EVENTS.c.elements_chain, EVENTS.c.event, count)
        .select_from(from_clause(uses_persons(request.properties)))
        .where(*where)
        .group_by(EVENTS.c.elements_chain, EVENTS.c.event)
        # Ties broken by chain and type so pages never overlap or skip rows.
        .order_by(count.desc(), EVENTS.c.elements_chain, EVENTS.c.event)
        .limit(request.limit + 1)
        .offset(request.offset)
    )


def values_statement(team_id: int, key: str, value: str | None) -> Select[Any]:
    """The most frequent values of element attribute `key` (`tag_name`: the clicked element's tag;
    otherwise the chain's first `key="..."`) among the latest $autocapture events, containing `value`
    (case-sensitive) when given.

    Chains repeat a lot, so events are first counted per distinct chain and the regex runs once per
    chain, not once per event."""
    recent = (
        select(EVENTS.c.elements_chain)
        .where(
            EVENTS.c.team_id == literal(team_id),
            EVENTS.c.event == literal("$autocapture", String),
            EVENTS.c.elements_chain != literal("", String),
        )
        .order_by(EVENTS.c.timestamp.desc())
        .limit(VALUES_SCANNED)
        .subquery("recent")
    )
    # MATERIALIZED: otherwise Postgres pushes the filters on the extracted value below the grouping,
    # and the regex runs per event again.
    chains = (
        select(recent.c.elements_chain.label("chain"), func.count().label("events"))
        .group_by(recent.c.elements_chain)
        .cte("chains")
        .prefix_with("MATERIALIZED")
    )
    pattern = _TAG_PATTERN if key == "tag_name" else _attribute_pattern(key)
    raw = func.substring(chains.c.chain, literal(pattern, String))
    found = (raw if key == "tag_name" else func.replace(raw, '\\"', '"')).label("name")
    extracted = select(found, chains.c.events).subquery("extracted")
    statement = select(extracted.c.name).where(extracted.c.name.is_not(None), extracted.c.name != "")
    if value:
        statement = statement.where(func.strpos(extracted.c.name, literal(value, String)) > 0)
    occurrences = func.sum(extracted.c.events)
    return (
        statement.group_by(extracted.c.name)
        .order_by(occurrences.desc(), extracted.c.name)
        .limit(VALUES_RETURNED)
    )
