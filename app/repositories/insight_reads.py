"""The read-only lookup of one insight (the retrieve endpoint), straight on asyncpg.

The same statement as `insights.get` builds (same columns, visibility rules and lookup order), compiled
once by SQLAlchemy and run on the driver: for this one-row read, SQLAlchemy's execution (cache key of
a large statement, result processing) and ORM loading cost more Python than the query itself.
Rows become *transient* ORM objects, attached to no session: for reading and serializing only. They
are built the way SQLAlchemy's own loader builds instances (a bare instance from the class manager,
its column values put straight into the instance dict), not through the constructor, whose
per-attribute events cost a tenth of a cached read.
Writes go through `insights.get`, whose rows are in the request's session.

The connection is the engine's own, not the request session's, so a retrieve that needs nothing
else from the database never checks out a session connection; with no transaction, the read sees
what is committed (what `GET`'s autocommit session would see too).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Integer, Select, String, bindparam, inspect
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import raw_connection
from app.models import Insight, User
from app.repositories.insights import (
    LIVE,
    VISIBLE,
    Creator,
    InsightRow,
    Modifier,
    Viewer,
    numeric_ref,
    row_of,
    rows_of,
    statement_params,
)

M = TypeVar("M", Insight, User)
_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves its __init__ untyped
INSIGHT_FIELDS = tuple(attr.key for attr in inspect(Insight).column_attrs)
USER_FIELDS = tuple(attr.key for attr in inspect(User).column_attrs)


def _labeled(entity: Any, prefix: str, fields: tuple[str, ...]) -> list[ColumnElement[Any]]:
    return [getattr(entity, key).label(prefix + key) for key in fields]


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A statement rendered once for asyncpg (`$n` placeholders) with its parameters' order."""

    sql: str
    compiled: Any

    @classmethod
    def of(cls, statement: Select[Any]) -> _Compiled:
        compiled = statement.compile(dialect=_DIALECT)
        return cls(str(compiled), compiled)

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        values = self.compiled.construct_params(params)
        return [values[name] for name in self.compiled.positiontup]


_ROWS = rows_of(
    *_labeled(Insight, "i_", INSIGHT_FIELDS),
    *_labeled(Creator, "c_", USER_FIELDS),
    *_labeled(Modifier, "m_", USER_FIELDS),
).where(VISIBLE, LIVE)
_BY_ID = _Compiled.of(_ROWS.where(Insight.id == bindparam("ref_id", type_=Integer)))
_BY_SHORT_ID = _Compiled.of(_ROWS.where(Insight.short_id == bindparam("ref", type_=String)))


def _entity(model: type[M], record: Mapping[str, Any], prefix: str, fields: tuple[str, ...]) -> M:
    instance: M = inspect(model).class_manager.new_instance()
    instance.__dict__.update({key: record[prefix + key] for key in fields})
    return instance


def _to_row(record: Mapping[str, Any]) -> InsightRow:
    return row_of(
        _entity(Insight, record, "i_", INSIGHT_FIELDS),
        None if record["c_id"] is None else _entity(User, record, "c_", USER_FIELDS),
        None if record["m_id"] is None else _entity(User, record, "m_", USER_FIELDS),
        record,
    )


async def get(engine: AsyncEngine, team_id: int, ref: str, viewer: Viewer) -> InsightRow | None:
    """A live insight the viewer may see, by numeric id first, then by short_id (PostHog's order)."""
    async with raw_connection(engine) as connection:
        if (ref_id := numeric_ref(ref)) is not None:
            record = await connection.fetchrow(
                _BY_ID.sql, *_BY_ID.args(statement_params(team_id, viewer, ref_id=ref_id))
            )
            if record is not None:
                return _to_row(record)
        record = await connection.fetchrow(
            _BY_SHORT_ID.sql, *_BY_SHORT_ID.args(statement_params(team_id, viewer, ref=ref))
        )
    return None if record is None else _to_row(record)
