"""`/shared/:access_token`: what a sharing link shows, without an API key (read-only, one object)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from app.deps import ExecutionDep, SessionDep
from app.schemas.generated.insights import SharedInsight
from app.services import shared

router = APIRouter(prefix="/shared", tags=["sharing"])


@router.get("/{access_token}", response_model=SharedInsight)
async def shared_object(
    session: SessionDep,
    execution: ExecutionDep,
    access_token: Annotated[str, Path(min_length=8, max_length=400)],
    refresh: Annotated[str | None, Query(max_length=40)] = None,
) -> Any:
    """The shared insight and its result. Expensive modes are remapped (force_cache → lazy_async)."""
    return await shared.read(session, execution, access_token, refresh)
