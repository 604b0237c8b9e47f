"""`analytics import` and `analytics demo-data`: bulk loads through the ingestion pipeline, with progress."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from app.db import create_engine, create_sessionmaker
from app.ingestion.bulk import ImportReport, import_events, open_lines, parse_lines
from app.ingestion.demo import DemoDataset
from app.ingestion.events import CapturedEvent, normalize_event
from app.ingestion.pipeline import Ingestor
from app.models import Project
from app.repositories import identity
from app.services import identity as identity_service
from app.settings import Settings

err = Console(stderr=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err,
    )


async def _project(settings: Settings, project_id: int | None) -> Project:
    engine = create_engine(settings, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            if project_id is not None:
                project = await identity.get_project(session, project_id)
                if project is None:
                    raise LookupError(f"project {project_id} does not exist")
                return project
            result = await identity_service.bootstrap(session)
            await session.commit()
            return result.project
    finally:
        await engine.dispose()


async def import_file(settings: Settings, path: Path, size: int, project_id: int) -> ImportReport:
    """`size`: the file's size in bytes, for the progress bar."""
    project = await _project(settings, project_id)
    engine = create_engine(settings, pool_size=2)
    report = ImportReport()
    started = time.monotonic()
    try:
        with path.open("rb") as raw, _progress() as progress:
            task = progress.add_task(f"import {path.name}", total=size, rate="")

            def advance(events: int) -> None:
                elapsed = max(time.monotonic() - started, 1e-6)
                done = report.imported + report.skipped
                progress.update(task, completed=raw.tell(), rate=f"{done / elapsed:,.0f} events/s")

            lines = open_lines(raw)
            events = parse_lines(lines, report, now=datetime.now(UTC))
            await import_events(Ingestor(engine), project.id, events, report, advance)
            progress.update(task, completed=size)
    finally:
        await engine.dispose()
    return report


def _numbered_demo(dataset: DemoDataset, now: datetime) -> Iterator[tuple[int, CapturedEvent]]:
    number = 0
    for day in dataset.batches():
        for raw in day:
            number += 1
            yield number, normalize_event(raw, index=number, now=now, sent_at=None)


async def load_demo(
    settings: Settings, dataset: DemoDataset, project_id: int | None, on_done: Callable[[Project], Any]
) -> ImportReport:
    project = await _project(settings, project_id)
    engine = create_engine(settings, pool_size=2)
    report = ImportReport()
    started = time.monotonic()
    try:
        with _progress() as progress:
            task = progress.add_task("demo-data", total=dataset.events, rate="")

            def advance(events: int) -> None:
                elapsed = max(time.monotonic() - started, 1e-6)
                progress.advance(task, events)
                done = progress.tasks[0].completed
                progress.update(task, rate=f"{done / elapsed:,.0f} events/s")

            await import_events(
                Ingestor(engine), project.id, _numbered_demo(dataset, datetime.now(UTC)), report, advance
            )
    finally:
        await engine.dispose()
    on_done(project)
    return report
