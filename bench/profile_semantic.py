"""CPU per request of the semantic cache's miss path, in process, at concurrency 16, every question unique.

The bench's layercache app with the semantic cache on (the MiniLM int8 model in ``../shared/models``),
the fake provider reached through ``httpx.ASGITransport``; the chat body of ``overhead.py``'s
throughput section. Prints process CPU per request and each thread's share (the event loop, the
embedder, the write-behind's SQLite thread...), so a change can be weighed without the noise of
sockets and a shared machine.

    python bench/profile_semantic.py [--requests N] [--concurrency C] [--cprofile FILE]

Under py-spy (all threads): ``py-spy record --threads --format raw -o /tmp/s.txt -- python bench/profile_semantic.py``.

Instructions on the event loop's thread, independent of the machine's load (the embedder's batches
depend on timing, so count the loop's thread alone)::

    PYTHONMALLOC=malloc valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes \
        --callgrind-out-file=/tmp/cgs.%p "$(python -c 'import sys; print(sys.executable)')" \
        bench/profile_semantic.py --callgrind --requests 300 --warmup 100

then divide the ``totals:`` line of ``/tmp/cgs.<pid>-01`` (thread 1, the loop) by the number of requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("BENCH_UPSTREAM", "http://provider.test")
os.environ.setdefault("BENCH_DB_URL", f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db")
os.environ.setdefault("BENCH_SEMANTIC", "1")
os.environ.setdefault("BENCH_MODEL_PATH", str(HERE.parent.parent / "shared/models/all-MiniLM-L6-v2-int8"))

import _apps  # noqa: E402
import httpx  # noqa: E402
import overhead  # noqa: E402
from _inprocess import callgrind, post  # noqa: E402

_HEADERS = [(k.encode(), v.encode()) for k, v in overhead._OPENAI_AUTH.items()]
_HEADERS += [(b"content-type", b"application/json"), (b"host", b"proxy.test")]


async def _call(app: Any, raw: bytes) -> str:
    headers = await post(app, "/v1/chat/completions", _HEADERS, raw)
    return headers.get(b"x-layercache-cache", b"").decode()


def _thread_cpu() -> dict[str, float]:
    """CPU seconds per thread name (Linux: /proc/self/task)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    out: Counter[str] = Counter()
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(task.name)) or (task / "comm").read_text().strip()
        out[name.split("_")[0].rstrip("0123456789-")] += (int(fields[11]) + int(fields[12])) / tick
    return dict(out)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--cprofile", metavar="FILE", help="write a cProfile of the event loop's thread")
    parser.add_argument("--callgrind", action="store_true", help="toggle callgrind's counting around the measured run")
    args = parser.parse_args()

    transport = httpx.ASGITransport(app=_apps.upstream)
    layercache = _apps.layercache()
    layercache._transport = transport

    async def run(tag: str, total: int, first: int = 0) -> Counter[str]:
        counter = iter(range(first, first + total))  # numbers unique across runs, not only the tag
        seen: Counter[str] = Counter()

        async def worker() -> None:
            for i in counter:
                seen[await _call(layercache, json.dumps(overhead._chat_body(tag, i)).encode())] += 1

        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        return seen

    await run("warm", args.warmup)
    await asyncio.sleep(0.5)
    print(f"measuring pid {os.getpid()}", file=sys.stderr, flush=True)  # for py-spy record --pid
    profile = None
    if args.cprofile:
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    if args.callgrind:
        callgrind("on")
    before, cpu0, wall0 = _thread_cpu(), time.process_time(), time.perf_counter()
    seen = await run("measured", args.requests, args.warmup)
    cpu, wall, after = time.process_time() - cpu0, time.perf_counter() - wall0, _thread_cpu()
    if args.callgrind:
        callgrind("off")
    if profile is not None:
        profile.disable()
        profile.dump_stats(args.cprofile)
    print(
        f"{args.requests} requests, c={args.concurrency}: {cpu * 1000 / args.requests:.3f} ms CPU a request, "
        f"{args.requests / wall:.0f} rps in process; results {dict(seen)}"
    )
    for name in sorted(after, key=lambda n: -(after[n] - before.get(n, 0.0))):
        spent = after[name] - before.get(name, 0.0)
        if spent > 0:
            print(f"  {name:<24} {spent * 1000 / args.requests:.3f} ms a request")
    await layercache.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
