"""Semantic cache quality and speed, with the real embedding model.

1. Precision and recall at the defaults (threshold + guard) beside cosine alone, on the
   labelled pairs of bench/data/semantic_pairs (dev and test splits, read by bench/_pairs.py)
   and on the project's older set tests/data/semantic_pairs.jsonl; recall and false hits
   per kind of pair; a threshold sweep, cosine alone and with the guard, side by side.
2. The test split through the HTTP proxy (uvicorn, fake provider): each pair's first
   question is stored under a tenant of its own, the second asked; a hit is what the proxy
   says in ``x-layercache-cache``.
3. Hit-path latency through the proxy (OpenAI JSON requests, p50/p99) beside the time
   to embed one query; with ``--baseline DIR`` the same timing of another checkout (e.g.
   /work/main) first, in the same run.
4. Lookup time (index + guard + fetch) with 10k and 100k entries stored in one bucket,
   the worst case: every entry shares the tenant and the exact key.

    python bench/semantic_quality.py [--model-path DIR] [--hits 200] [--sizes 10000,100000]
        [--sections quality,proxy,latency,lookup] [--splits dev,test] [--baseline /work/main]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
if "LAYERCACHE_BENCH_BASELINE" not in os.environ:  # a baseline run imports the other checkout's package
    sys.path.insert(0, str(HERE.parent))

from layercache_asgi import Settings  # noqa: E402
from layercache_asgi.semantic._embedder import Embedder  # noqa: E402

PAIRS = HERE.parent / "tests" / "data" / "semantic_pairs.jsonl"
# Written once, later, by a session that read neither the guard nor its scores: never tuned on (its README).
FRESH = HERE / "data" / "semantic_pairs_fresh" / "pairs.jsonl"
MODEL_DIR = HERE.parent.parent / "shared" / "models" / "all-MiniLM-L6-v2-int8"
_WARM_UP = 50
_SETTLE_SECONDS = 8.0
SWEEP = (0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, same: bool, hit: bool) -> None:
        if hit:
            self.tp, self.fp = self.tp + same, self.fp + (not same)
        else:
            self.fn, self.tn = self.fn + same, self.tn + (not same)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def hit_rate(self) -> float:
        total = self.tp + self.fp + self.fn + self.tn
        return (self.tp + self.fp) / total if total else 0.0


def load_pairs(path: Path = PAIRS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def pair_sets(splits: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The labelled sets by name: the independent set's splits (when present), the fresh set when asked for
    (``--splits fresh``) and the project's old set."""
    sets: dict[str, list[dict[str, Any]]] = {}
    if "fresh" in splits:
        splits = [s for s in splits if s != "fresh"]
        sets["fresh"] = load_pairs(FRESH)
    try:
        from bench._pairs import load_pairs as load_split  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        print("(bench/_pairs.py not found: only the project's own set is measured)")
    else:
        for split in splits:
            sets[split] = [dataclasses.asdict(pair) for pair in load_split(split)]
    sets["project"] = load_pairs()
    return sets


async def similarities(embedder: Embedder, pairs: list[dict[str, Any]], *, batched: bool = False) -> list[float]:
    """Cosine of each pair, every text embedded alone as an idle proxy does.

    ``batched``: all texts asked at once, so the embedder batches them as it does under load.
    """
    texts = sorted({p[k] for p in pairs for k in ("a", "b")})
    if batched:
        rows = await asyncio.gather(*(embedder.embed([t]) for t in texts))
        vectors = {t: row[0] for t, row in zip(texts, rows, strict=True)}
    else:
        vectors = {t: (await embedder.embed([t]))[0] for t in texts}
    return [float(vectors[p["a"]] @ vectors[p["b"]]) for p in pairs]


async def verdicts(
    guard: Any, pairs: list[dict[str, Any]], word_cut: float, weighing: Any = None
) -> list[tuple[bool, str]]:
    """The guard's verdict on each pair: entry ``a`` is cached, ``b`` is asked."""
    found = []
    for pair in pairs:
        verdict = await (
            guard.judge(pair["b"], pair["a"], word_cut, weighing)
            if weighing
            else guard.judge(pair["b"], pair["a"], word_cut)
        )
        found.append((verdict.same, verdict.reason))
    return found


def score(
    pairs: list[dict[str, Any]], sims: list[float], threshold: float, judged: list[tuple[bool, str]] | None
) -> tuple[Scores, dict[str, Scores]]:
    """A hit needs the threshold and (with ``judged``, the guard's verdicts) the guard."""
    total, by_kind = Scores(), defaultdict[str, Scores](Scores)
    for n, (pair, sim) in enumerate(zip(pairs, sims, strict=True)):
        hit = sim >= threshold and (judged is None or judged[n][0])
        total.add(pair["same"], hit)
        by_kind[pair["kind"]].add(pair["same"], hit)
    return total, dict(by_kind)


async def quality(model_path: str | None, splits: list[str]) -> None:
    from layercache_asgi.semantic._guard import Guard
    from layercache_asgi.semantic._lexicon import load_lexicon
    from layercache_asgi.semantic._thresholds import resolve_thresholds, resolve_weighing

    defaults = Settings.model_validate({"caching": {"semantic": {"model_path": model_path}}}).caching.semantic
    threshold, word_cut = resolve_thresholds(defaults)
    weighing = resolve_weighing(defaults)
    embedder = Embedder(defaults.model, model_path)
    load_lexicon()
    guard = Guard(embedder)
    sets = pair_sets(splits)
    sims = {name: await similarities(embedder, pairs) for name, pairs in sets.items()}
    judged = {name: await verdicts(guard, pairs, word_cut, weighing) for name, pairs in sets.items()}
    print(
        f"\n## Quality at the defaults: model {model_path or defaults.model}, cos >= {threshold}, word cut {word_cut}\n"
    )
    print(f"{'set':<9}{'pairs':>6}{'same':>6}{'precision':>10}{'recall':>8}{'false hits':>11}   cosine alone: P / R")
    for name, pairs in sets.items():
        total, _ = score(pairs, sims[name], threshold, judged[name])
        alone, _ = score(pairs, sims[name], threshold, None)
        same = sum(p["same"] for p in pairs)
        print(
            f"{name:<9}{len(pairs):>6}{same:>6}{total.precision:>10.3f}{total.recall:>8.3f}{total.fp:>11}"
            f"   {alone.precision:.3f} / {alone.recall:.3f}"
        )
    for name, pairs in sets.items():
        _, kinds = score(pairs, sims[name], threshold, judged[name])
        _, kinds_alone = score(pairs, sims[name], threshold, None)
        print(f"\n### {name}: per kind (defaults; cosine alone beside)\n")
        print(f"{'kind':<24}{'same':>6}{'recall':>8}{'alone':>7}{'near-misses':>13}{'false hits':>11}{'alone':>7}")
        for kind, s in sorted(kinds.items()):
            a = kinds_alone[kind]
            positives, negatives = s.tp + s.fn, s.fp + s.tn
            recall = f"{s.recall:.2f}" if positives else "-"
            recall_alone = f"{a.recall:.2f}" if positives else "-"
            print(f"{kind:<24}{positives:>6}{recall:>8}{recall_alone:>7}{negatives:>13}{s.fp:>11}{a.fp:>7}")
    for name, pairs in sets.items():
        print(f"\n### {name}: threshold sweep (hit rate = hits / pairs)\n")
        print(f"{'cos >=':<8}{'alone: P':>10}{'R':>7}{'hit rate':>9}{'guard: P':>11}{'R':>7}{'hit rate':>9}")
        for t in SWEEP:
            alone, _ = score(pairs, sims[name], t, None)
            guarded, _ = score(pairs, sims[name], t, judged[name])
            print(
                f"{t:<8}{alone.precision:>10.3f}{alone.recall:>7.3f}{alone.hit_rate:>9.3f}"
                f"{guarded.precision:>11.3f}{guarded.recall:>7.3f}{guarded.hit_rate:>9.3f}"
            )
    if "project" in sets:
        pairs = sets["project"]
        batched = await similarities(embedder, pairs, batched=True)
        total, _ = score(pairs, batched, threshold, judged["project"])
        print(f"\nproject set, batched as under load: precision {total.precision:.3f}, recall {total.recall:.3f}")
    await embedder.close()


async def through_proxy(model_path: str | None, split: str) -> None:
    """The split's pairs through the served proxy: store ``a`` (own tenant), ask ``b``, read the header."""
    import httpx

    from layercache_asgi import LayerCacheApp
    from layercache_asgi.testing import FakeProvider, serve

    pairs = pair_sets([split]).get(split)
    if not pairs:
        return
    with tempfile.TemporaryDirectory() as tmp, serve(FakeProvider()) as upstream:
        settings = Settings.model_validate(
            {
                "providers": {"openai": {"api_base": f"{upstream}/v1"}},
                "database": {"url": f"sqlite+aiosqlite:///{tmp}/bench.db"},
                "caching": {"semantic": {"enabled": True, "model_path": model_path}},
                "logging": {"level": "WARNING"},
            }
        )
        total, by_kind = Scores(), defaultdict[str, Scores](Scores)
        with serve(LayerCacheApp(settings)) as proxy, httpx.Client(base_url=proxy, timeout=60) as client:
            for n, pair in enumerate(pairs):
                headers = {"authorization": f"Bearer sk-bench-pair-{n:05d}"}  # a tenant per pair
                for text in (pair["a"], pair["b"]):
                    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
                    response = client.post("/v1/chat/completions", json=body, headers=headers)
                    response.raise_for_status()
                hit = response.headers.get("x-layercache-cache") == "hit"
                total.add(pair["same"], hit)
                by_kind[pair["kind"]].add(pair["same"], hit)
    print(f"\n## {split} split through the HTTP proxy (defaults, {len(pairs)} pairs)\n")
    print(f"precision {total.precision:.3f}, recall {total.recall:.3f}, false hits {total.fp}")
    print(f"\n{'kind':<24}{'same':>6}{'recall':>8}{'near-misses':>13}{'false hits':>11}")
    for kind, s in sorted(by_kind.items()):
        positives = s.tp + s.fn
        recall = f"{s.recall:.2f}" if positives else "-"
        print(f"{kind:<24}{positives:>6}{recall:>8}{s.fp + s.tn:>13}{s.fp:>11}")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def hit_latency(model_path: str | None, hits: int, label: str) -> None:
    import socket

    import httpx

    from layercache_asgi import LayerCacheApp
    from layercache_asgi.testing import FakeProvider, serve

    embedder = Embedder(model_path=model_path)
    await embedder.load()
    embed_times = []
    for i in range(hits):
        started = time.perf_counter()
        await embedder.embed([f"What is the capital of country number {i}?"])
        embed_times.append(time.perf_counter() - started)
    await embedder.close()
    with tempfile.TemporaryDirectory() as tmp, serve(FakeProvider()) as upstream:
        semantic: dict[str, Any] = {"enabled": True, "model_path": model_path}
        settings = Settings.model_validate(
            {
                "providers": {"openai": {"api_base": f"{upstream}/v1"}},
                "database": {"url": f"sqlite+aiosqlite:///{tmp}/bench.db"},
                "caching": {"semantic": semantic},
                "logging": {"level": "WARNING"},
            }
        )
        with serve(LayerCacheApp(settings)) as proxy:
            body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "How do I reset my password?"}]}
            headers = {"authorization": "Bearer sk-bench-key-0001"}
            # No Nagle on the client: a POST's headers and body go out as two writes.
            transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
            timings: dict[str, list[float]] = {"hit": [], "bypass": []}
            with httpx.Client(base_url=proxy, headers=headers, timeout=30, transport=transport) as client:
                client.post("/v1/chat/completions", json=body).raise_for_status()
                # Warm up both paths, then let start-up work settle (lazy imports, their
                # garbage collections): steady state is timed, not the first seconds.
                for extra in [{}, {"lc_bypass_cache": True}] * _WARM_UP:
                    client.post("/v1/chat/completions", json={**body, **extra}).raise_for_status()
                time.sleep(_SETTLE_SECONDS)
                for _ in range(hits):
                    for result, extra in (("hit", {}), ("bypass", {"lc_bypass_cache": True})):
                        started = time.perf_counter()
                        response = client.post("/v1/chat/completions", json={**body, **extra})
                        timings[result].append(time.perf_counter() - started)
                        assert response.headers["x-layercache-cache"] == result, response.headers
        app = LayerCacheApp(settings)
        async with (
            app.lifespan(),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://proxy", headers=headers
            ) as inprocess,
        ):
            for _ in range(_WARM_UP):
                (await inprocess.post("/v1/chat/completions", json=body)).raise_for_status()
            await asyncio.sleep(_SETTLE_SECONDS)
            timings["asgi"] = []
            for _ in range(hits):
                started = time.perf_counter()
                response = await inprocess.post("/v1/chat/completions", json=body)
                timings["asgi"].append(time.perf_counter() - started)
                assert response.headers["x-layercache-cache"] == "hit", response.headers
    print(f"\n## Hit path through the proxy, {label} ({hits} requests each, one client, SQLite)\n")
    print(f"{'':<42}{'p50 ms':>8}{'p99 ms':>8}")
    rows = [
        ("embed one query (model alone)", embed_times),
        ("cache hit, in-process ASGI call", timings["asgi"]),
        ("cache hit, HTTP round trip", timings["hit"]),
        ("bypass to the in-process fake upstream", timings["bypass"]),
    ]
    for label, values in rows:
        print(f"{label:<42}{_pct(values, 0.5) * 1e3:>8.2f}{_pct(values, 0.99) * 1e3:>8.2f}")


async def lookup_time(size: int, dim: int = 384, lookups: int = 50) -> tuple[float, float, float]:
    """(first lookup incl. loading the bucket, p50, p99) in seconds with ``size`` entries in one bucket."""
    from sqlalchemy import insert

    from layercache_asgi.db import Database, SemanticEntry, metadata
    from layercache_asgi.semantic import compare_questions
    from layercache_asgi.semantic._index import Candidate
    from layercache_asgi.semantic._store import SemanticStore, utc_now
    from layercache_asgi.wire._completion import Completion

    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/lookup.db")
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        now = utc_now()
        response = Completion(text="cached answer").to_dict()
        vectors = rng.standard_normal((size, dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        async with db.session() as session:
            for start in range(0, size, 5000):
                rows = [
                    {
                        "tenant": "t",
                        "model": "m",
                        "exact_key": "k",
                        "query_text": f"question {i}",
                        "embedding": vectors[i].tobytes(),
                        "response": response,
                        "created_at": now,
                        "last_hit_at": now,
                        "expires_at": now + timedelta(hours=1),
                    }
                    for i in range(start, min(size, start + 5000))
                ]
                await session.execute(insert(SemanticEntry), rows)
            await session.commit()
        store = SemanticStore(db, max_entries=size, dim=dim)

        async def one(query: np.ndarray[Any, Any]) -> None:
            found: list[Candidate] = await store.candidates(await store.bucket("t", "k"), query, 0.85)
            for candidate in found:
                if compare_questions("question 1", candidate.query).same:
                    await store.fetch(candidate)
                    break

        started = time.perf_counter()
        await one(vectors[0])
        cold = time.perf_counter() - started
        times = []
        for i in range(lookups):
            started = time.perf_counter()
            await one(vectors[(i * 7919) % size])
            times.append(time.perf_counter() - started)
        await store.close()
        await db.close()
    return cold, _pct(times, 0.5), _pct(times, 0.99)


async def lookups(sizes: list[int]) -> None:
    print("\n## Lookup (index + guard + fetch), all entries in one bucket, SQLite\n")
    print(f"{'entries':>10}{'first (load) ms':>17}{'p50 ms':>9}{'p99 ms':>9}")
    for size in sizes:
        cold, p50, p99 = await lookup_time(size)
        print(f"{size:>10}{cold * 1e3:>17.1f}{p50 * 1e3:>9.2f}{p99 * 1e3:>9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model-path", default=str(MODEL_DIR), help="local model folder ('' for the hub model)")
    parser.add_argument("--hits", type=int, default=200)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--sections", default="quality,proxy,latency,lookup")
    parser.add_argument(
        "--splits", default="dev,test", help="splits of bench/data/semantic_pairs to score, or 'fresh' (one-off set)"
    )
    parser.add_argument("--proxy-split", default="test")
    parser.add_argument("--baseline", default="", help="another checkout whose hit path is timed first")
    args = parser.parse_args()
    model_path = args.model_path or None
    sections = set(args.sections.split(","))
    if "quality" in sections:
        asyncio.run(quality(model_path, [s for s in args.splits.split(",") if s]))
    if "proxy" in sections:
        asyncio.run(through_proxy(model_path, args.proxy_split))
    if "latency" in sections:
        if args.baseline:
            baseline = Path(args.baseline).resolve()
            env = {**os.environ, "PYTHONPATH": str(baseline), "LAYERCACHE_BENCH_BASELINE": str(baseline)}
            command = [sys.executable, __file__, "--sections", "latency", "--hits", str(args.hits)]
            subprocess.run([*command, "--model-path", args.model_path], env=env, check=True)
        label = f"checkout {os.environ.get('LAYERCACHE_BENCH_BASELINE') or HERE.parent}"
        asyncio.run(hit_latency(model_path, args.hits, label))
    if "lookup" in sections:
        asyncio.run(lookups([int(s) for s in args.sizes.split(",") if s]))


if __name__ == "__main__":
    main()
