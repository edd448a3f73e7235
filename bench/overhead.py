"""Proxy overhead on the cache-miss path, against a floor measured in the same run.

The floor is a minimal raw-ASGI forwarder (read the body, ``json.loads``, re-post it with one
shared httpx client, relay the answer). Each server runs as its own one-worker uvicorn process
in front of the same fake provider; every request is unique, so nothing is served from a cache.
The fake is neither strict nor fingerprinting for cache diagnostics (``_apps.upstream``): both
walk every block of a marked body in Python (~12-14 ms at 600 KB), and only requests through
layercache-asgi are marked and ask for diagnostics, so the fake's own cost would be charged to
the proxy (the floor forwards the client's unmarked body).
One run prints:

- the body-size sweep: agent-shaped ``/v1/messages`` bodies (40 tools, a long system prompt,
  N turns of history with tool_use/tool_result) from 1 KB to 1 MB, sent one at a time to the
  provider directly, through the floor and through layercache-asgi in turn; the added latency
  is the median, over the rounds, of (through the proxy - direct);
- throughput at concurrency 16 (small chat body), semantic cache off and on (every question
  unique: embed + lookup + store), against the floor;
- ``import layercache_asgi`` in a fresh interpreter (median of several);
- with ``--memory``: RSS of the layercache-asgi process after 10,000 requests of 200-turn sessions;
- with ``--profile FILE``: a pyinstrument profile of layercache-asgi serving the 600 KB body.

    python bench/overhead.py [--rounds 2] [--requests 2000] [--memory] [--profile out.txt]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
# The servers and the import timing use the package of this checkout, whatever is installed.
_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")]))}
MODEL_DIR = HERE.parent.parent / "shared" / "models" / "all-MiniLM-L6-v2-int8"
SIZES_KB = (1, 50, 100, 250, 600, 1000)
_ROUNDS_BY_SIZE = {1: 300, 50: 150, 100: 120, 250: 80, 600: 50, 1000: 40}
_OPENAI_AUTH = {"authorization": "Bearer sk-bench"}
_ANTHROPIC_AUTH = {"x-api-key": "sk-ant-bench", "anthropic-version": "2023-06-01"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(target: str, env: dict[str, str], *, factory: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "uvicorn", target, "--app-dir", str(HERE), "--port", str(port)]
    cmd += ["--log-level", "warning", "--no-access-log", "--workers", "1"]
    if factory:
        cmd.append("--factory")
    proc = subprocess.Popen(cmd, env={**_ENV, **env})
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


@contextmanager
def _servers(*, semantic: bool = True, profile: str | None = None) -> Iterator[dict[str, str]]:
    """The fake provider, the floor and layercache-asgi (and with ``semantic`` the semantic-on variant)."""
    procs: list[subprocess.Popen[bytes]] = []
    tmp = tempfile.mkdtemp()
    try:
        proc, upstream = _start("_apps:upstream", {})
        procs.append(proc)
        common = {"BENCH_UPSTREAM": upstream, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        urls = {"direct": upstream}
        proc, urls["floor"] = _start("_apps:passthrough", common)
        procs.append(proc)
        urls["floor pid"] = str(proc.pid)
        lc_env = {**common, "BENCH_DB_URL": f"sqlite+aiosqlite:///{tmp}/a.db"}
        if profile:
            lc_env["BENCH_PROFILE"] = profile
        proc, urls["layercache"] = _start("_apps:profiled" if profile else "_apps:layercache", lc_env, factory=True)
        procs.append(proc)
        urls["layercache pid"] = str(proc.pid)
        if semantic and MODEL_DIR.is_dir():
            sem_env = {**common, "BENCH_DB_URL": f"sqlite+aiosqlite:///{tmp}/b.db", "BENCH_SEMANTIC": "1"}
            proc, urls["semantic"] = _start(
                "_apps:layercache", {**sem_env, "BENCH_MODEL_PATH": str(MODEL_DIR)}, factory=True
            )
            procs.append(proc)
            urls["semantic pid"] = str(proc.pid)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)


# -- agent-shaped bodies ----------------------------------------------------------------------


def _words(seed: int, n: int) -> str:
    vocab = [
        "the",
        "file",
        "function",
        "returns",
        "value",
        "error",
        "test",
        "module",
        "import",
        "class",
        "config",
        "path",
        "line",
        "run",
    ]
    return " ".join(vocab[(seed * 7 + i * 13) % len(vocab)] + (str(i % 97) if i % 5 == 0 else "") for i in range(n))


def _tools() -> list[dict[str, Any]]:
    return [
        {
            "name": f"tool_{t}",
            "description": f"Tool {t}: " + _words(t, 50),
            "input_schema": {
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "Absolute path. " + _words(t + 1, 8)},
                    "command": {"type": "string", "description": _words(t + 2, 10)},
                    "timeout": {"type": "number", "description": "Seconds, e.g. 1.50", "default": 120.0},
                },
                "required": ["path"],
            },
        }
        for t in range(40)
    ]


def _turn(n: int, session: str = "") -> list[dict[str, Any]]:
    """One agent step: the assistant calls a tool, the user message carries its result."""
    call_id = f"toolu_{session}{n:05d}"
    return [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": f"Step {n}: " + _words(n, 25)},
                {"type": "tool_use", "id": call_id, "name": f"tool_{n % 40}", "input": {"path": f"/src/m{n}.py"}},
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call_id, "content": _words(n, 500 if n % 3 else 150)}],
        },
    ]


def agent_base(size_kb: int) -> dict[str, Any]:
    """A coding-agent ``/v1/messages`` body of about ``size_kb`` KB, minus its unique last question."""
    if size_kb <= 2:  # a small chat body: no room for 40 tools
        return {
            "model": "claude-sonnet-4-6",
            "max_tokens": 256,
            "system": "You are a helpful assistant. " + _words(0, 100),
            "messages": [],
        }
    body: dict[str, Any] = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 4096,
        "system": [
            {"type": "text", "text": "You are a coding agent. " + _words(1, 200)},
            {"type": "text", "text": _words(2, 1200)},
        ],
        "tools": _tools(),
        "messages": [{"role": "user", "content": "Fix the failing tests. " + _words(3, 40)}],
    }
    n = 0
    while len(json.dumps(body)) < size_kb * 1000:
        body["messages"] += _turn(n)
        n += 1
    return body


def with_question(base: dict[str, Any], tag: str) -> bytes:
    """The base body plus a unique last user text (a miss in every cache)."""
    text = {"type": "text", "text": f"question {tag}: what now? Latency 1.50 ms, ratio 2.0e0."}
    messages = list(base["messages"])
    if messages and messages[-1]["role"] == "user":  # after a tool result: in the same user turn
        last = messages[-1]
        content = last["content"] if isinstance(last["content"], list) else [{"type": "text", "text": last["content"]}]
        messages[-1] = {**last, "content": [*content, text]}
    else:
        messages.append({"role": "user", "content": [text]})
    return json.dumps({**base, "messages": messages}).encode()


# -- the sweep --------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (less sensitive to a busy machine than latency)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


Row = tuple[int, int, float, float, float, float]


def sweep(urls: dict[str, str], sizes: tuple[int, ...], scale: float) -> list[Row]:
    """Per size: (KB, bytes, floor added ms, layercache added ms, floor CPU ms, layercache CPU ms);
    the added latencies are medians of paired differences, the CPU times means per request."""
    clients = {name: httpx.Client(base_url=urls[name], timeout=120) for name in ("direct", "floor", "layercache")}
    headers = {**_ANTHROPIC_AUTH, "content-type": "application/json"}
    rows = []
    try:
        for kb in sizes:
            base = agent_base(kb)
            rounds = max(10, int(_ROUNDS_BY_SIZE.get(kb, 50) * scale))
            added: dict[str, list[float]] = {"floor": [], "layercache": []}
            cpu: dict[str, float] = {}
            for i in range(rounds + 5):
                if i == 5:
                    cpu = {name: _cpu_seconds(int(urls[f"{name} pid"])) for name in added}
                timings = {}
                for name, client in clients.items():
                    content = with_question(base, f"{kb}-{i}-{name}")
                    start = time.perf_counter()
                    response = client.post("/v1/messages", content=content, headers=headers)
                    timings[name] = time.perf_counter() - start
                    if response.status_code != 200:
                        raise RuntimeError(f"{name} answered {response.status_code}: {response.text[:300]}")
                if i >= 5:  # warm-up: connections, lazy start, one-time loads
                    for name in added:
                        added[name].append(timings[name] - timings["direct"])
            size = len(with_question(base, "x"))
            used = {name: (_cpu_seconds(int(urls[f"{name} pid"])) - cpu[name]) * 1000 / rounds for name in added}
            median = {name: statistics.median(values) * 1000 for name, values in added.items()}
            rows.append((kb, size, median["floor"], median["layercache"], used["floor"], used["layercache"]))
            print(f"  swept {kb} KB ({rounds} rounds)", file=sys.stderr)
    finally:
        for client in clients.values():
            client.close()
    return rows


# -- throughput -------------------------------------------------------------------------------


_WARM = 30  # warm-up requests before each throughput round


def _chat_body(tag: str, i: int) -> dict[str, object]:
    """A miss every time: a shared system prompt, a unique question."""
    return {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant. " * 20},
            {"role": "user", "content": f"question {tag}-{i}: what is {i} plus {i}?"},
        ],
    }


async def _load(url: str, total: int, concurrency: int, tag: str, first: int = 0) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    # Numbers from ``first`` on: a round's questions must not repeat an earlier round's with only the tag
    # changed (the guard would weigh each such near-duplicate pair, embedding more texts: another workload).
    counter = iter(range(first + _WARM, first + _WARM + total))
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal errors
            for i in counter:
                start = time.perf_counter()
                response = await client.post("/v1/chat/completions", json=_chat_body(tag, i), headers=_OPENAI_AUTH)
                latencies.append(time.perf_counter() - start)
                if response.status_code != 200:
                    errors += 1

        # Warm up with the measured request shape: connections, lazy start-up and one-time
        # loads (LiteLLM's tokenizer loads on the first prefix count) stay out of the timing.
        for i in range(first, first + _WARM):
            await client.post("/v1/chat/completions", json=_chat_body(f"warm {tag}", i), headers=_OPENAI_AUTH)
        await asyncio.sleep(1)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return total / elapsed, latencies, errors


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


def throughput(
    urls: dict[str, str], total: int, concurrency: int, rounds: int, cpu: dict[str, list[float]] | None = None
) -> dict[str, list[float]]:
    """Requests/s per target, ``rounds`` times each, the targets taking turns; with ``cpu``, the
    server process's CPU ms per request of each round (warm-up included) is added there."""
    rps: dict[str, list[float]] = {name: [] for name in ("direct", "floor", "layercache", "semantic") if name in urls}
    for r in range(rounds):
        for name in rps:
            pid = int(urls.get(f"{name} pid", 0))
            used = _cpu_seconds(pid) if pid else 0.0
            rate, _lat, errors = asyncio.run(_load(urls[name], total, concurrency, f"{name}{r}", r * (total + _WARM)))
            if errors:
                raise RuntimeError(f"{name}: {errors} errors")
            rps[name].append(rate)
            if cpu is not None and pid:
                cpu.setdefault(name, []).append((_cpu_seconds(pid) - used) * 1000 / (total + _WARM))
    return rps


# -- import time and memory -------------------------------------------------------------------

_IMPORT = (
    "import sys, time; t = time.perf_counter(); import layercache_asgi; t = time.perf_counter() - t; "
    "heavy = [m for m in ('sqlalchemy', 'numpy', 'litellm', 'fastembed', 'alembic', 'jinja2') if m in sys.modules]; "
    "print(t, ','.join(heavy))"
)


def import_time(times: int = 7) -> tuple[float, str]:
    """Median wall time of ``import layercache_asgi`` in a fresh interpreter, with bytecode cached
    (as after ``pip install``; the first, compiling run is not counted), and the heavy modules it loaded."""
    env = {k: v for k, v in _ENV.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp()  # leaves the source tree clean
    results = []
    heavy = ""
    for _ in range(times + 1):
        run = subprocess.run([sys.executable, "-c", _IMPORT], capture_output=True, text=True, check=True, env=env)
        out = run.stdout.split()
        results.append(float(out[0]))
        heavy = out[1] if len(out) > 1 else ""
    return statistics.median(results[1:]), heavy


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def _sessions(url: str, pid: int, total: int, turns: int, failed: list[int]) -> list[tuple[int, float]]:
    """``total`` requests: sessions of ``turns`` turns, each turn resending the whole history."""
    samples: list[tuple[int, float]] = []
    base = agent_base(3)
    base["messages"] = base["messages"][:1]
    headers = {**_ANTHROPIC_AUTH, "content-type": "application/json"}
    counter = iter(range(total))
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=httpx.Limits(max_connections=4)) as client:

        async def worker() -> None:
            for k in counter:
                session, turn = divmod(k, turns)
                history = [m for n in range(turn) for m in _turn(n, f"s{session}_")]
                first = {"role": "user", "content": f"Session {session}: fix the failing tests."}
                content = with_question({**base, "messages": [first, *history]}, f"{session}-{turn}")
                response = await client.post("/v1/messages", content=content, headers=headers)
                if response.status_code != 200:  # counted, not fatal: a dropped upstream connection is a 502
                    failed.append(response.status_code)
                if (k + 1) % 1000 == 0 or k + 1 == 200:
                    samples.append((k + 1, _rss_mb(pid)))
                    print(f"  {k + 1} requests: RSS {samples[-1][1]:.0f} MB", file=sys.stderr)

        await asyncio.gather(*(worker() for _ in range(4)))
    return sorted(samples)


# -- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per throughput round")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="throughput rounds per target")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the sweep's rounds per size")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES_KB)), help="KB, comma-separated")
    parser.add_argument("--only", choices=("sweep", "throughput", "import"), help="run one section")
    parser.add_argument("--memory", action="store_true", help="also: RSS after 10,000 requests of 200-turn sessions")
    parser.add_argument("--memory-requests", type=int, default=10_000)
    parser.add_argument("--profile", metavar="FILE", help="only: profile layercache-asgi on the 600 KB body")
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    cores = os.cpu_count()

    if args.profile:
        with _servers(semantic=False, profile=str(Path(args.profile).resolve())) as urls:
            sweep(urls, (600,), args.scale * 2)
        print(f"profile written to {args.profile}")
        return

    imported = import_time() if args.only in (None, "import") else None
    rows, rps = [], {}
    cpu: dict[str, list[float]] = {}
    if args.only in (None, "sweep", "throughput"):
        with _servers(semantic=args.only != "sweep") as urls:
            if args.only in (None, "sweep"):
                rows = sweep(urls, sizes, args.scale)
            if args.only in (None, "throughput"):
                rps = throughput(urls, args.requests, args.concurrency, args.rounds, cpu)

    print(f"\nOne uvicorn worker per server, {cores} cores shared with everything else on the machine.\n")
    print("| what | floor | layercache-asgi | ratio |")
    print("|---|---|---|---|")
    for kb, size, floor, lc, _, _ in rows:
        shape = "small `/v1/messages` body" if kb <= 2 else "coding-agent `/v1/messages` body"
        print(
            f"| added latency, sequential, {shape}, {size / 1000:.0f} KB | +{floor:.2f} ms | +{lc:.2f} ms | "
            f"{lc / floor:.1f}x |"
        )
    if rows:
        print(
            "\n(CPU per request, server process, ms: "
            + ", ".join(f"{kb} KB floor {fc:.1f} layercache {lcc:.1f}" for kb, _, _, _, fc, lcc in rows)
            + ")\n"
        )
    if rps:
        floor_rps = statistics.median(rps["floor"])
        for name, label in (("layercache", "semantic off"), ("semantic", "semantic on, every question unique")):
            if name in rps:
                ours = statistics.median(rps[name])
                print(
                    f"| throughput, c={args.concurrency}, small chat body, miss, {label} | {floor_rps:.0f} rps | "
                    f"{ours:.0f} rps | {ours / floor_rps:.2f}x |"
                )
        print(f"\n(throughput rounds, rps: {', '.join(f'{n} {[round(v) for v in vs]}' for n, vs in rps.items())})")
        per_round = ", ".join(f"{n} {[round(v, 2) for v in vs]}" for n, vs in cpu.items())
        print(f"(CPU per request at c={args.concurrency}, server process, ms, per round: {per_round})")
    if imported is not None:
        seconds, heavy = imported
        print(f"| `import layercache_asgi` (fresh interpreter, median of 7) | | {seconds:.2f} s | |")
        print(f"\n(heavy modules loaded by the import: {heavy or 'none'})")

    if args.memory:
        with _servers(semantic=False) as urls:
            pid = int(urls["layercache pid"])
            failed: list[int] = []
            samples = asyncio.run(_sessions(urls["layercache"], pid, args.memory_requests, 200, failed))
        (n0, rss0), (n1, rss1) = samples[0], samples[-1]
        print(
            f"\nRSS of layercache-asgi: {rss0:.0f} MB after {n0} requests, {rss1:.0f} MB after {n1} "
            f"(200-turn sessions): +{rss1 - rss0:.0f} MB"
        )
        print("  " + ", ".join(f"{n}: {mb:.0f} MB" for n, mb in samples))
        print(f"  requests not answered 200: {len(failed)} {sorted(set(failed))}")


if __name__ == "__main__":
    main()
