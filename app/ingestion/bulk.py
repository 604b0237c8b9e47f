"""Loading history in bulk: PostHog event JSON lines (`analytics import`) and the demo dataset.

Both go through the same pipeline as the capture endpoints (persons, definitions, idempotent
writes), in large batches. A bad line is reported with its number and skipped; it never aborts the
file. A batch that Postgres refuses as a whole is retried line by line to find the culprits.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

import orjson
from asyncpg import exceptions as pg_errors

from app.errors import APIError
from app.ingestion.events import CapturedEvent, normalize_event
from app.ingestion.payload import GZIP_MAGIC
from app.ingestion.pipeline import Ingestor

BATCH_SIZE = 5_000
MAX_REPORTED_INVALID = 1_000


@dataclass
class ImportReport:
    imported: int = 0
    skipped: int = 0  # already stored (same uuid)
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason), the first ones
    invalid_count: int = 0

    def reject(self, line: int, reason: str) -> None:
        self.invalid_count += 1
        if len(self.invalid) < MAX_REPORTED_INVALID:
            self.invalid.append((line, reason))


def open_lines(raw: io.BufferedReader) -> IO[bytes]:
    """The file's lines, gunzipped when it is gzip (by its content, not its name)."""
    if raw.peek(2)[:2] == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]  # GzipFile is a binary IO
    return raw


def parse_lines(
    lines: Iterable[bytes], report: ImportReport, now: datetime
) -> Iterator[tuple[int, CapturedEvent]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw: Any = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            report.reject(number, f"not JSON: {exc}")
            continue
        if not isinstance(raw, dict):
            report.reject(number, "not a JSON object")
            continue
        try:
            yield number, normalize_event(raw, index=number, now=now, sent_at=None)
        except APIError as exc:
            report.reject(number, exc.detail.removeprefix("Invalid payload: "))


async def ingest_numbered(
    ingestor: Ingestor, team_id: int, batch: list[tuple[int, CapturedEvent]], report: ImportReport
) -> None:
    try:
        result = await ingestor.ingest(team_id, [event for _, event in batch])
    except pg_errors.DataError:
        if len(batch) == 1:
            report.reject(batch[0][0], "a value Postgres cannot store")
            return
        middle = len(batch) // 2
        await ingest_numbered(ingestor, team_id, batch[:middle], report)
        await ingest_numbered(ingestor, team_id, batch[middle:], report)
        return
    report.imported += result.stored
    report.skipped += result.duplicates


async def import_events(
    ingestor: Ingestor,
    team_id: int,
    events: Iterable[tuple[int, CapturedEvent]],
    report: ImportReport,
    progress: Callable[[int], None] = lambda _: None,
) -> ImportReport:
    batch: list[tuple[int, CapturedEvent]] = []
    for numbered in events:
        batch.append(numbered)
        if len(batch) >= BATCH_SIZE:
            await ingest_numbered(ingestor, team_id, batch, report)
            progress(len(batch))
            batch = []
    if batch:
        await ingest_numbered(ingestor, team_id, batch, report)
        progress(len(batch))
    return report
