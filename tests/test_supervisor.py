"""`analytics serve`'s listening sockets: one per API process, the kernel spreading connections."""

from __future__ import annotations

import select
import socket

import pytest

from app.supervisor import api_children, listeners


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_each_process_gets_a_socket_and_connections_reach_all_of_them() -> None:
    port = _free_port()
    sockets = listeners("127.0.0.1", port, 2)
    clients = []
    try:
        assert len({s.fileno() for s in sockets}) == 2
        children = api_children(sockets, 2)
        assert [c.pass_fds for c in children] == [(s.fileno(),) for s in sockets]
        for _ in range(40):
            clients.append(socket.create_connection(("127.0.0.1", port)))
        accepted = [0, 0]
        while sum(accepted) < len(clients):
            ready, _, _ = select.select(sockets, [], [], 5)
            assert ready, "a connection was never offered to any socket"
            for listener in ready:
                listener.accept()[0].close()
                accepted[sockets.index(listener)] += 1
        # 40 connections all on one of two sockets: odds of 2 in 2**40 if the kernel spreads them.
        assert min(accepted) > 0, accepted
    finally:
        for sock in [*clients, *sockets]:
            sock.close()


def test_a_port_in_use_is_refused_even_by_another_serve() -> None:
    port = _free_port()
    first = listeners("127.0.0.1", port, 2)
    try:
        with pytest.raises(OSError, match="in use"):
            listeners("127.0.0.1", port, 2)
    finally:
        for sock in first:
            sock.close()
