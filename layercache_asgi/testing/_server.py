"""Serve an ASGI app with uvicorn on 127.0.0.1 in a background thread (tests, benchmarks)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, Literal

__all__ = ["serve"]


@contextlib.contextmanager
def serve(
    app: Any, *, port: int = 0, lifespan: Literal["auto", "on", "off"] = "auto", timeout: float = 30.0
) -> Iterator[str]:
    """Run ``app`` until the block ends; yields its base URL, e.g. ``http://127.0.0.1:54321``."""
    import uvicorn

    # proto must say TCP: asyncio sets TCP_NODELAY on accepted sockets only then, and without
    # it Nagle holds each response's second write for a delayed ACK (~40 ms a request).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(app, lifespan=lifespan, log_level="warning", access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
