"""Runs the API and the worker as child processes and stops them all on Ctrl-C / SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType

STOP_GRACE_SECONDS = 10.0


def api_command(host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app",
        "--factory",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
    ]


def worker_command() -> list[str]:
    return [sys.executable, "-m", "app.cli", "worker"]


def supervise(commands: list[list[str]], env: dict[str, str]) -> int:
    """Start every command; return when asked to stop or when one child exits (its code, or 0)."""
    stop_requested = False

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    # Own sessions: a terminal's Ctrl-C reaches only us, and we stop the children in order.
    children = [subprocess.Popen(cmd, env=env, start_new_session=True) for cmd in commands]
    names = {child.pid: " ".join(cmd[2:4]) for child, cmd in zip(children, commands, strict=True)}
    exit_code = 0
    try:
        while not stop_requested:
            for child in children:
                if (code := child.poll()) is not None:
                    print(f"error: {names[child.pid]} exited with code {code}", file=sys.stderr)
                    exit_code = code or 1
                    stop_requested = True
            time.sleep(0.2)
    finally:
        _stop_all(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return exit_code


def _stop_all(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
