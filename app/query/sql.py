"""Column expressions shared by every compiler: tables, JSON property access, safe numeric
coercion, local-time buckets. Each returns a SQLAlchemy expression; user input is always bound."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Numeric,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from app.models.events import PROMOTED_PROPERTIES, Event, PersonEventFirstSeen
from app.models.persons import Person

EVENTS = Event.__table__.alias("e")
FIRST_SEEN = PersonEventFirstSeen.__table__.alias("f")
PERSONS = Person.__table__.alias("p")
# A number written as JSON string: bounded digits so the cast can never overflow numeric.
NUMERIC_TEXT = r"^\s*[-+]?([0-9]{1,60}(\.[0-9]{0,60})?|\.[0-9]{1,60})([eE][-+]?[0-9]{1,3})?\s*$"
_UNIT_SQL = {"minute": "'minute'", "hour": "'hour'", "day": "'day'", "week": "'week'", "month": "'month'"}


def text_param(value: str, name: str | None = None) -> ColumnElement[str]:
    return bindparam(name, value, type_=String) if name else literal(value, String)


def array_param(values: list[str]) -> ColumnElement[Any]:
    return literal(values, ARRAY(Text))


def prop_json(source: str, key: str) -> ColumnElement[Any]:
    table = PERSONS if source == "person" else EVENTS
    return table.c.properties.op("->", return_type=JSONB)(literal(key, String))


def prop_text(source: str, key: str) -> ColumnElement[str]:
    """`properties ->> key`; for a promoted event property, its generated column (same value)."""
    if source != "person" and (column := PROMOTED_PROPERTIES.get(key)) is not None:
        return EVENTS.c[column]
    table = PERSONS if source == "person" else EVENTS
    return table.c.properties.op("->>", return_type=Text)(literal(key, String))


def numeric(source: str, key: str) -> ColumnElement[Any]:
    """A JSON number, or a string holding one, as numeric; anything else NULL (never an error)."""
    as_text = prop_text(source, key)
    kind = func.jsonb_typeof(prop_json(source, key))
    return case(
        (kind == "number", cast(as_text, Numeric)),
        (and_(kind == "string", as_text.bool_op("~")(literal(NUMERIC_TEXT))), cast(as_text, Numeric)),
        else_=None,
    )


def local_time(timestamp: ColumnElement[Any], timezone: str) -> ColumnElement[Any]:
    """timestamptz → naive wall-clock time in the project's timezone."""
    return func.timezone(literal(timezone, String), timestamp)


def bucket(
    timestamp: ColumnElement[Any], interval: str, timezone: str, week_start_day: int
) -> ColumnElement[Any]:
    """Start of the local interval containing `timestamp`, as a naive local timestamp.

    Postgres weeks start on Monday; Sunday weeks shift by a day before and after truncating.
    """
    local = local_time(timestamp, timezone)
    unit: ColumnElement[Any] = literal_column(_UNIT_SQL[interval])
    if interval == "week" and week_start_day == 0:
        one_day: ColumnElement[Any] = literal_column("interval '1 day'")
        return func.date_trunc(unit, local + one_day) - one_day
    return func.date_trunc(unit, local)


def epoch(value: ColumnElement[Any]) -> ColumnElement[float]:
    """Seconds since the epoch (or in an interval) as float8: `date_part`, cheaper than numeric."""
    return func.date_part(literal("epoch"), value, type_=Float)
