"""`GET /elements/stats/`: click counts per (element chain, event type), PostHog's parameters and shape.

Parameters are validated here with PostHog's messages; the aggregate itself is one SQL statement
(app/query/element_stats.py). Dates resolve in the project's timezone and the start is always the
start of its day (the toolbar only picks days).

`sampling_factor` is validated as PostHog does but counts stay exact: PostHog samples a fraction of
the rows and scales the count back up to estimate the total, and the exact total is the best
estimate there is (scaling an unsampled count would inflate it).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import orjson
from clickhouse_cityhash.cityhash import CityHash64
from sqlalchemy.ext.asyncio import AsyncSession

from app.elements_chain import parse_chain
from app.errors import ValidationError
from app.models import Project
from app.models.base import utcnow
from app.query import execute, normalize
from app.query.dates import localize, parse_date, zone
from app.query.element_stats import CLICK_EVENTS, StatsRequest, stats_statement
from app.query.ir import EMPTY_GROUP, PropertyGroup

DEFAULT_LIMIT = 50_000
LIMIT_CAP = 100_000
MAX_DATA_ATTRIBUTES = 50


@dataclass(frozen=True, slots=True)
class StatsParams:
    """The raw query parameters (strings as sent; parsed by `parse`)."""

    include: list[str]
    date_from: str | None = None
    date_to: str | None = None
    limit: str | None = None
    offset: str | None = None
    sampling_factor: str | None = None
    properties: str | None = None
    filter_test_accounts: str | None = None
    data_attributes: str | None = None
    max_element_chain_depth: str | None = None


@dataclass(frozen=True, slots=True)
class Shaping:
    attribute_patterns: tuple[re.Pattern[str], ...] | None
    max_depth: int | None


def _include(raw_values: list[str]) -> tuple[str, ...]:
    """Repeated params, a JSON array string, or comma-separated names; none → all three."""
    wanted: set[str] = set()
    for raw in raw_values:
        if raw.startswith("["):
            try:
                parsed = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise ValidationError("include must be a valid JSON array when passed as one") from None
            if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
                raise ValidationError("include must be a JSON array of event names")
            wanted.update(parsed)
        else:
            wanted.update(part.strip() for part in raw.split(",") if part.strip())
    if not wanted:
        return CLICK_EVENTS
    if not wanted <= set(CLICK_EVENTS):
        raise ValidationError("Only $autocapture, $rageclick, and $dead_click are supported.")
    return tuple(sorted(wanted))


def _integer(raw: str | None, default: int, name: str) -> int:
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValidationError(f"{name} must be an integer", attr=name) from None


def _sampling_factor(raw: str | None) -> float:
    if raw is None:
        return 1.0
    try:
        factor = float(raw)
    except ValueError:
        raise ValidationError("sampling_factor must be a float", attr="sampling_factor") from None
    if not 0 < factor <= 1:
        raise ValidationError("sampling_factor must be greater than 0 and at most 1", attr="sampling_factor")
    return factor


def _date_range(
    project: Project, date_from: str | None, date_to: str | None, now: datetime
) -> tuple[datetime, datetime]:
    tz = zone(project.timezone or "UTC")
    now_local = now.astimezone(tz).replace(tzinfo=None)
    week_start = project.week_start_day or 0
    start, _ = parse_date(date_from or "-7d", now_local, tz, week_start, "date_from")
    start = datetime.combine(start.date(), time())
    if date_to:
        end, date_only = parse_date(date_to, now_local, tz, week_start, "date_to")
        if date_only:  # a day names all of it
            end = end + timedelta(days=1) - timedelta(microseconds=1)
    else:
        end = now_local
    try:
        return localize(start, tz), localize(end, tz)
    except (OverflowError, ValueError):
        raise ValidationError("Date out of range.", attr="date_from") from None


def _properties(project: Project, raw: str | None, test_accounts: bool) -> PropertyGroup:
    groups = []
    if raw:
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ValidationError("Properties must be valid JSON.", attr="properties") from None
        groups.append(normalize.properties_from_json(parsed, "properties"))
    if test_accounts and project.test_account_filters:
        groups.append(normalize.properties_from_json(project.test_account_filters, "filter_test_accounts"))
    if not groups:
        return EMPTY_GROUP
    return groups[0] if len(groups) == 1 else PropertyGroup("AND", tuple(groups))


def _attribute_patterns(raw: str | None) -> tuple[re.Pattern[str], ...] | None:
    names = [name.strip() for name in (raw or "").split(",") if name.strip()]
    if not names:
        return None
    if len(names) > MAX_DATA_ATTRIBUTES:
        raise ValidationError(
            f"At most {MAX_DATA_ATTRIBUTES} data attributes are allowed.", attr="data_attributes"
        )
    return tuple(re.compile(fnmatch.translate(f"attr__{name}")) for name in names)


def parse(project: Project, params: StatsParams, now: datetime | None = None) -> tuple[StatsRequest, Shaping]:
    limit = _integer(params.limit, DEFAULT_LIMIT, "limit")
    if not 0 < limit < LIMIT_CAP:
        raise ValidationError(f"limit must be between 1 and {LIMIT_CAP - 1}", attr="limit")
    offset = _integer(params.offset, 0, "offset")
    if offset < 0:
        raise ValidationError("offset must be zero or greater", attr="offset")
    depth = None
    if params.max_element_chain_depth is not None:
        depth = _integer(params.max_element_chain_depth, 0, "max_element_chain_depth")
        if depth < 1:
            raise ValidationError(
                "max_element_chain_depth must be greater than zero", attr="max_element_chain_depth"
            )
    date_from, date_to = _date_range(project, params.date_from, params.date_to, now or utcnow())
    request = StatsRequest(
        team_id=project.id,
        timezone=project.timezone or "UTC",
        events=_include(params.include),
        date_from=date_from,
        date_to=date_to,
        properties=_properties(project, params.properties, params.filter_test_accounts == "true"),
        limit=limit,
        offset=offset,
    )
    _sampling_factor(params.sampling_factor)
    shaping = Shaping(_attribute_patterns(params.data_attributes), depth)
    return request, shaping


def chain_hash(chain: str) -> str:
    """PostHog's `hash`: ClickHouse's cityHash64 of the chain, as lower-case hex."""
    return f"{CityHash64(chain.encode()):x}"


def _elements(chain: str, shaping: Shaping) -> list[dict[str, Any]]:
    elements = parse_chain(chain)
    if shaping.max_depth is not None:
        elements = elements[: shaping.max_depth]
    result = []
    for element in elements:
        body = element.as_dict()
        if shaping.attribute_patterns is not None:
            body["attributes"] = {
                key: value
                for key, value in element.attributes.items()
                if any(pattern.match(key) for pattern in shaping.attribute_patterns)
            }
        result.append(body)
    return result


async def rows(
    session: AsyncSession, request: StatsRequest, shaping: Shaping
) -> tuple[list[dict[str, Any]], bool]:
    """One page of `{count, hash, type, elements}` and whether another page follows."""
    connection = await session.connection()
    await execute.check_regexes(connection, [pattern for pattern, _ in normalize.regexes(request.properties)])
    found = await execute.fetch_all(connection, stats_statement(request))
    page = [
        {
            "count": row.occurrences,
            "hash": chain_hash(row.elements_chain),
            "type": row.event,
            "elements": _elements(row.elements_chain, shaping),
        }
        for row in found[: request.limit]
    ]
    return page, len(found) > request.limit
