"""What every insight kind receives: the IR, the compile context and the resolved date range."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.query.dates import ResolvedRange
from app.query.ir import QueryIR
from app.query.source import CompileContext


@dataclass(frozen=True, slots=True)
class Plan:
    ir: QueryIR
    ctx: CompileContext
    range: ResolvedRange


# A kind's runner: compiles its statements (pure), fetches them through `execute`, shapes the body.
Runner = Callable[[AsyncConnection, Plan], Awaitable[dict[str, Any]]]
