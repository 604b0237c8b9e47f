"""`analytics serve | worker | migrate | bootstrap | import | demo-data`.

Without `DATABASE_URL` / `REDIS_URL` every command uses the embedded servers under
`ANALYTICS_DATA_DIR`, starting them or attaching to the ones `serve` already runs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import psutil
import typer
from rich.console import Console

from app.db import create_engine, create_sessionmaker
from app.runtime import Unreachable, backing_services, check_reachable, migrate
from app.services import identity as identity_service
from app.settings import Settings
from app.supervisor import api_children, listeners, supervise, worker_child

cli = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
# One Python process uses one core, and the API is CPU-bound on cheap reads (a cached insight read
# is almost all Python), so one process leaves a second core to Postgres and Redis at best. Two,
# like the Dockerfile: more cost memory and database connections (DB_POOL_SIZE, twice for bursts,
# each; two processes and the worker stay under Postgres' default 100 connections).
DEFAULT_API_WORKERS = min(2, os.cpu_count() or 1)
err = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


async def _bootstrap(settings: Settings) -> identity_service.BootstrapResult:
    engine = create_engine(settings, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            result = await identity_service.bootstrap(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


async def _is_first_run(settings: Settings) -> bool:
    from sqlalchemy import func, select

    from app.models import User

    engine = create_engine(settings, pool_size=1)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(select(func.count()).select_from(User))).scalar_one() == 0
    finally:
        await engine.dispose()


def _prepare(settings: Settings, *, redis: bool) -> None:
    try:
        check_reachable(settings, redis=redis)
    except Unreachable as exc:
        raise _fail(str(exc)) from None
    migrate(settings)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for the API.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="API worker processes (default: 2, or 1 on a single-core machine).")
    ] = DEFAULT_API_WORKERS,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Do not start the arq worker.")] = False,
) -> None:
    """Run the API and one arq worker (embedded Postgres and Valkey unless URLs are set)."""
    os.environ.setdefault("SITE_URL", f"http://{host}:{port}")
    with backing_services() as settings:
        _prepare(settings, redis=True)
        if asyncio.run(_is_first_run(settings)):
            result = asyncio.run(_bootstrap(settings))
            err.print(f"[bold]Project[/] {result.project.name} (id {result.project.id})")
            err.print(f"  project API token  [green]{result.project.api_token}[/]")
            err.print(f"  personal API key   [green]{result.personal_api_key}[/]  (shown once)")
        else:
            err.print("Existing data kept. `uv run analytics bootstrap` prints a fresh personal API key.")
        err.print(f"[bold]API[/] {settings.site_url}  docs {settings.site_url}/docs")
        if workers > 1:
            _share_metrics(settings)
        try:
            sockets = listeners(host, port, workers)
        except OSError as exc:
            raise _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        children = api_children(sockets, workers)
        if not no_worker:
            children.append(worker_child())
        marker = _serve_marker(settings)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps({"pid": os.getpid(), "site_url": settings.site_url}))
        try:
            code = supervise(children, env=dict(os.environ))
        finally:
            marker.unlink(missing_ok=True)
            for listener in sockets:
                listener.close()
    raise typer.Exit(code)


def _share_metrics(settings: Settings) -> None:
    """Several API processes: each writes its Prometheus samples to a shared, freshly emptied folder
    (prometheus_client's multiprocess mode), so `/metrics` from any of them reports all of them."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        return
    folder = settings.data_dir / "prometheus"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder.resolve())


def _serve_marker(settings: Settings) -> Path:
    return settings.data_dir / "serve.json"


def _running_site_url(settings: Settings) -> str:
    """The URL of a running `serve` on this data dir, so `bootstrap` prints the address to use."""
    if "SITE_URL" in os.environ:
        return settings.site_url
    try:
        marker = json.loads(_serve_marker(settings).read_text())
        if psutil.pid_exists(int(marker["pid"])):
            return str(marker["site_url"])
    except (OSError, ValueError, KeyError):
        pass
    return settings.site_url


@cli.command()
def worker() -> None:
    """Run one arq worker process."""
    from arq.worker import run_worker

    with backing_services() as settings:
        try:
            check_reachable(settings)
        except Unreachable as exc:
            raise _fail(str(exc)) from None
        from app.workers.settings import WorkerSettings

        run_worker(WorkerSettings)  # type: ignore[arg-type]


@cli.command("migrate")
def migrate_command() -> None:
    """Apply database migrations."""
    with backing_services(redis=False) as settings:
        _prepare(settings, redis=False)
    err.print("migrations applied")


@cli.command()
def bootstrap(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object and nothing else.")] = False,
) -> None:
    """Create (once) an admin user and project; print a fresh personal API key with all scopes."""
    with backing_services(redis=False) as settings:
        _prepare(settings, redis=False)
        result = asyncio.run(_bootstrap(settings))
    payload = {
        "project_id": result.project.id,
        "project_api_token": result.project.api_token,
        "personal_api_key": result.personal_api_key,
        "api_url": _running_site_url(settings),
    }
    if as_json:
        sys.stdout.write(json.dumps(payload) + "\n")
    else:
        for key, value in payload.items():
            print(f"{key}: {value}")


@cli.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="PostHog event JSON lines, optionally gzipped.", exists=True)],
    project: Annotated[int, typer.Option("--project", help="Project id to import into.")],
) -> None:
    """Import events from a JSON-lines file; bad lines are reported and skipped."""
    from app.bulk_cli import import_file

    with backing_services(redis=False) as settings:
        _prepare(settings, redis=False)
        try:
            report = asyncio.run(import_file(settings, path, path.stat().st_size, project))
        except LookupError as exc:
            raise _fail(str(exc)) from None
    err.print(
        f"imported [green]{report.imported:,}[/], skipped {report.skipped:,} already stored, "
        f"invalid [red]{report.invalid_count:,}[/]"
    )
    for line, reason in report.invalid[:50]:
        err.print(f"  line {line}: {reason}", highlight=False)
    if report.invalid_count > 50:
        err.print(f"  … and {report.invalid_count - 50:,} more")


@cli.command("demo-data")
def demo_data(
    events: Annotated[int, typer.Option(min=1, help="How many events to generate.")] = 100_000,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Spread over this many days up to --end.")] = 30,
    seed: Annotated[int, typer.Option(help="Same seed and end date, same events.")] = 1,
    end: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day (exclusive; default today, UTC).")
    ] = None,
    project: Annotated[int | None, typer.Option("--project", help="Project id (default: the first).")] = None,
) -> None:
    """Generate a realistic product dataset (visitors, sessions, signups, purchases) and load it."""
    from app.bulk_cli import load_demo
    from app.ingestion.demo import DemoDataset

    dataset = DemoDataset(events=events, days=days, seed=seed)
    if end is not None:
        dataset.end = end.replace(tzinfo=UTC)
    with backing_services(redis=False) as settings:
        _prepare(settings, redis=False)
        try:
            report = asyncio.run(
                load_demo(settings, dataset, project, lambda p: err.print(f"project {p.name} (id {p.id})"))
            )
        except LookupError as exc:
            raise _fail(str(exc)) from None
    err.print(f"loaded [green]{report.imported:,}[/] events ({report.skipped:,} were already there)")


def main() -> None:
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    cli()


if __name__ == "__main__":
    main()
