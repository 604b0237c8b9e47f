"""Limit/offset pagination in DRF's shape: `{count, next, previous, results}` with absolute URLs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from app.middleware import request_url

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Postgres' OFFSET is a bigint: anything larger is a 400, not a driver overflow.
MAX_OFFSET = 2**63 - 1


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    offset: int


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


def page_links(request: Request, page: PageParams, count: int) -> tuple[str | None, str | None]:
    url = request_url(request)
    next_url = None
    if page.offset + page.limit < count:
        next_url = str(url.include_query_params(limit=page.limit, offset=page.offset + page.limit))
    previous_url = None
    if page.offset > 0:
        previous_offset = max(page.offset - page.limit, 0)
        previous_url = (
            str(url.include_query_params(limit=page.limit).remove_query_params("offset"))
            if previous_offset == 0
            else str(url.include_query_params(limit=page.limit, offset=previous_offset))
        )
    return next_url, previous_url


def paginated(request: Request, page: PageParams, count: int, results: list[Any]) -> dict[str, Any]:
    next_url, previous_url = page_links(request, page, count)
    return {"count": count, "next": next_url, "previous": previous_url, "results": results}
