"""Proxy overhead on the cache-miss path: direct vs a bare pass-through vs layercache-asgi.

Each server runs as its own one-worker uvicorn process; the same requests (each unique,
so nothing is served from a cache) are sent at the same concurrency to each, and the
table prints requests/s and latency percentiles side by side.

    python bench/overhead.py [--requests 2000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
MODEL_DIR = HERE.parent.parent / "shared" / "models" / "all-MiniLM-L6-v2-int8"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(target: str, env: dict[str, str], *, factory: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--app-dir",
        str(HERE),
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--workers",
        "1",
    ]
    if factory:
        cmd.append("--factory")
    proc = subprocess.Popen(cmd, env={**os.environ, **env})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/", timeout=1)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{target} did not start")


_AUTH = {"authorization": "Bearer sk-bench"}


def _body(tag: str, i: int) -> dict[str, object]:
    """A miss every time: a shared system prompt, a unique question."""
    return {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant. " * 20},
            {"role": "user", "content": f"question {tag}-{i}: what is {i} plus {i}?"},
        ],
    }


async def _load(url: str, total: int, concurrency: int, tag: str) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal errors
            for i in counter:
                start = time.perf_counter()
                response = await client.post("/v1/chat/completions", json=_body(tag, i), headers=_AUTH)
                latencies.append(time.perf_counter() - start)
                if response.status_code != 200:
                    errors += 1

        # Warm up with the measured request shape: connections, lazy start-up and one-time
        # loads (LiteLLM's tokenizer loads on the first prefix count) stay out of the timing.
        for i in range(30):
            await client.post("/v1/chat/completions", json=_body(f"warm {tag}", i), headers=_AUTH)
        await asyncio.sleep(1)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return total / elapsed, latencies, errors


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    procs: list[subprocess.Popen[bytes]] = []
    try:
        up_proc, upstream = _start("_apps:upstream", {})
        procs.append(up_proc)
        tmp = tempfile.mkdtemp()
        common = {"BENCH_UPSTREAM": upstream, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        targets = {
            "direct (fake upstream)": upstream,
            "bare pass-through": None,
            "layercache-asgi": None,
            "layercache-asgi + semantic": None,
        }
        p, targets["bare pass-through"] = _start("_apps:passthrough", common)
        procs.append(p)
        p, targets["layercache-asgi"] = _start(
            "_apps:layercache", {**common, "BENCH_DB_URL": f"sqlite+aiosqlite:///{tmp}/a.db"}, factory=True
        )
        procs.append(p)
        if MODEL_DIR.is_dir():
            p, targets["layercache-asgi + semantic"] = _start(
                "_apps:layercache",
                {
                    **common,
                    "BENCH_DB_URL": f"sqlite+aiosqlite:///{tmp}/b.db",
                    "BENCH_SEMANTIC": "1",
                    "BENCH_MODEL_PATH": str(MODEL_DIR),
                },
                factory=True,
            )
            procs.append(p)
        results = {}
        for name, url in targets.items():
            if url is None:
                continue
            results[name] = asyncio.run(_load(url, args.requests, args.concurrency, name.split()[0]))
        base = results["bare pass-through"][0]
        print(
            f"\n{args.requests} requests, concurrency {args.concurrency}, one uvicorn worker each, "
            f"{os.cpu_count()} cores shared by all processes\n"
        )
        print(f"{'target':<30} {'req/s':>8} {'vs pass-through':>16} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for name, (rps, lat, errors) in results.items():
            print(
                f"{name:<30} {rps:>8.0f} {rps / base:>15.2f}x {_pct(lat, 50):>8.1f} {_pct(lat, 99):>8.1f} {errors:>7}"
            )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)


if __name__ == "__main__":
    main()
