"""One API process, serving on a listening socket it inherits (`analytics serve` starts several).

python -m app.api_process FD
"""

from __future__ import annotations

import socket
import sys

import uvicorn


def main() -> None:
    listener = socket.socket(fileno=int(sys.argv[1]))
    config = uvicorn.Config(
        "app.main:create_app", factory=True, loop="uvloop", http="httptools", access_log=False
    )
    uvicorn.Server(config).run(sockets=[listener])


if __name__ == "__main__":
    main()
