"""Runs the API and the worker as child processes and stops them all on Ctrl-C / SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from types import FrameType

STOP_GRACE_SECONDS = 10.0
BACKLOG = 2048  # uvicorn's default


@dataclass(frozen=True)
class Child:
    command: list[str]
    pass_fds: tuple[int, ...] = ()


def listeners(host: str, port: int, count: int) -> list[socket.socket]:
    """One listening socket per API process, all on `host:port` (SO_REUSEPORT).

    The kernel then spreads new connections over the processes by their addresses. With one shared
    socket (uvicorn's `--workers`), each connection went to whichever process accepted first: 32
    keep-alive connections opened at once split 24/8, and the busier process's queue set the p99.
    A plain bind comes first, so a port already in use (by anything, another `serve` included)
    fails clearly instead of being silently shared.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    reuse_port = hasattr(socket, "SO_REUSEPORT")
    sockets: list[socket.socket] = []
    for _ in range(count if reuse_port else 1):
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind((host, port))
        listener.listen(BACKLOG)
        listener.set_inheritable(True)
        sockets.append(listener)
    return sockets


def api_children(sockets: list[socket.socket], count: int) -> list[Child]:
    """`count` API processes; without SO_REUSEPORT they share the one socket."""
    fds = [sockets[n % len(sockets)].fileno() for n in range(count)]
    return [Child([sys.executable, "-m", "app.api_process", str(fd)], (fd,)) for fd in fds]


def worker_child() -> Child:
    return Child([sys.executable, "-m", "app.cli", "worker"])


def supervise(specs: list[Child], env: dict[str, str]) -> int:
    """Start every command; return when asked to stop or when one child exits (its code, or 0)."""
    stop_requested = False

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    # Own sessions: a terminal's Ctrl-C reaches only us, and we stop the children in order.
    children = [
        subprocess.Popen(spec.command, env=env, start_new_session=True, pass_fds=spec.pass_fds)
        for spec in specs
    ]
    names = {child.pid: " ".join(spec.command[2:4]) for child, spec in zip(children, specs, strict=True)}
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
