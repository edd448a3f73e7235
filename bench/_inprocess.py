"""Calling an ASGI app in process for the profiling benches: one POST, no sockets, a client that stays."""

from __future__ import annotations

import asyncio
import os
import subprocess
from typing import Any

__all__ = ["callgrind", "post"]


async def post(app: Any, path: str, headers: list[tuple[bytes, bytes]], raw: bytes) -> dict[bytes, bytes]:
    """POST ``raw`` to ``path``; the answer's headers. Raises unless the answer is a 200."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent = False
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        await never.wait()  # the client stays: no disconnect
        raise AssertionError

    started: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.append(message)

    await app(scope, receive, send)
    if [m["status"] for m in started] != [200]:
        raise RuntimeError(f"answered {[m['status'] for m in started]}")
    return dict(started[0]["headers"])


def callgrind(state: str) -> None:
    """Turn callgrind's counting ``on`` or ``off`` for this process (run under valgrind --instr-atstart=no)."""
    subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True, capture_output=True)
