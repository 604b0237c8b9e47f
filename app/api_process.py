"""One API process, serving on a listening socket it inherits (`analytics serve` starts several).

python -m app.api_process FD
"""

from __future__ import annotations

import gc
import socket
import sys

import uvicorn

GC_THRESHOLD = 50_000


def main() -> None:
    listener = socket.socket(fileno=int(sys.argv[1]))
    config = uvicorn.Config(
        "app.main:create_app", factory=True, loop="uvloop", http="httptools", access_log=False
    )
    config.load()
    # A /batch body parses into thousands of dicts and strings that die with the request. At Python's
    # default threshold (700) the collector ran every few events, rescanning the live ones: parsing
    # and normalizing a demo event cost 15.7 µs, 8.3 without it (bench/ingest.py: +7% events/s).
    # Freezing what the app built at import keeps it out of every full collection.
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD)
    uvicorn.Server(config).run(sockets=[listener])


if __name__ == "__main__":
    main()
