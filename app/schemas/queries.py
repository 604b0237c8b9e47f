"""Request bodies of the `/query` endpoints (PostHog's `QueryRequest`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class QueryRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    query: dict[str, Any]
    client_query_id: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[\w.:-]+$")
    refresh: str | bool | None = None
    async_: bool | None = Field(default=None, alias="async")
    filters_override: dict[str, Any] | None = None
    variables_override: dict[str, Any] | None = None
    name: str | None = Field(default=None, max_length=400)


class CancelRequest(BaseModel):
    client_query_id: str = Field(min_length=1, max_length=200)
