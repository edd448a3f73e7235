"""Work per request of the small ``/v1/messages`` body (1 KB, sequential), in process: floor vs layercache-asgi.

The bench's own apps (``_apps.passthrough`` and ``_apps.layercache``) serve raw ASGI calls, with the
fake provider reached through ``httpx.ASGITransport``; no sockets, so what is measured is the
Python work of a request (the fake's share is in both). After a warm-up, ``N`` unique requests
(``overhead.with_question``) are sent one at a time.

    python bench/profile_small.py floor|layercache [--requests N] [--cprofile FILE]

Instruction counts, independent of the machine's load (callgrind counts only between the toggles;
give it the interpreter itself, not a shim that execs it)::

    PYTHONMALLOC=malloc valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.%p \\
        "$(python -c 'import sys; print(sys.executable)')" bench/profile_small.py layercache --callgrind --requests 200

then divide the ``totals:`` line of ``/tmp/cg.*`` by the number of requests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("BENCH_UPSTREAM", "http://provider.test")
os.environ.setdefault("BENCH_DB_URL", f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db")

import _apps  # noqa: E402
import httpx  # noqa: E402
import overhead  # noqa: E402
from _inprocess import callgrind, post  # noqa: E402

_HEADERS = [(k.encode(), v.encode()) for k, v in overhead._ANTHROPIC_AUTH.items()]
_HEADERS += [(b"content-type", b"application/json"), (b"host", b"proxy.test")]


async def _call(app: Any, raw: bytes) -> None:
    await post(app, "/v1/messages", _HEADERS, raw)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", choices=["floor", "layercache"])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--cprofile", metavar="FILE", help="write a cProfile of the measured requests")
    parser.add_argument("--callgrind", action="store_true", help="toggle callgrind's counting around them")
    args = parser.parse_args()

    transport = httpx.ASGITransport(app=_apps.upstream)
    _apps.passthrough.client = httpx.AsyncClient(transport=transport)
    layercache = _apps.layercache()
    layercache._transport = transport
    app: Any = layercache if args.target == "layercache" else _apps.passthrough
    base = overhead.agent_base(1)
    for i in range(args.warmup):
        await _call(app, overhead.with_question(base, f"warm {i}"))
    bodies = [overhead.with_question(base, f"measured {i}") for i in range(args.requests)]

    profile = None
    if args.cprofile:
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    if args.callgrind:
        callgrind("on")
    started = time.process_time()
    for body in bodies:
        await _call(app, body)
    cpu = time.process_time() - started
    if args.callgrind:
        callgrind("off")
    if profile is not None:
        profile.disable()
        profile.dump_stats(args.cprofile)
    print(f"{args.target}: {cpu * 1000 / args.requests:.3f} ms CPU a request over {args.requests}")
    await layercache.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
