"""Semantic cache quality and speed, with the real embedding model.

1. Precision and recall on the labelled pairs in tests/data/semantic_pairs.jsonl at the
   default settings (threshold + guard), beside cosine alone, per kind of pair.
2. Hit-path latency through the proxy (OpenAI JSON requests, p50/p99) beside the time
   to embed one query.
3. Lookup time (index + guard + fetch) with 10k and 100k entries stored in one bucket,
   the worst case: every entry shares the tenant and the exact key.

    python bench/semantic_quality.py [--model-path DIR] [--hits 200] [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
sys.path.insert(0, str(HERE.parent))

from layercache_asgi import Settings  # noqa: E402
from layercache_asgi.semantic._embedder import Embedder  # noqa: E402
from layercache_asgi.semantic._guard import compare_questions  # noqa: E402

PAIRS = HERE.parent / "tests" / "data" / "semantic_pairs.jsonl"
MODEL_DIR = HERE.parent.parent / "shared" / "models" / "all-MiniLM-L6-v2-int8"
_WARM_UP = 50
_SETTLE_SECONDS = 8.0


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


def load_pairs(path: Path = PAIRS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


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


def score(
    pairs: list[dict[str, Any]], sims: list[float], threshold: float, guard: bool
) -> tuple[Scores, dict[str, Scores]]:
    """Entry ``a`` is cached, ``b`` is asked: a hit needs the threshold and (with ``guard``) the guard."""
    total, by_kind = Scores(), defaultdict[str, Scores](Scores)
    for pair, sim in zip(pairs, sims, strict=True):
        hit = sim >= threshold and (not guard or compare_questions(pair["b"], pair["a"]).same)
        total.add(pair["same"], hit)
        by_kind[pair["kind"]].add(pair["same"], hit)
    return total, dict(by_kind)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def quality(model_path: str | None) -> None:
    defaults = Settings().caching.semantic
    embedder = Embedder(defaults.model, model_path)
    pairs = load_pairs()
    sims = await similarities(embedder, pairs)
    print(f"\n## Quality: {len(pairs)} labelled pairs, model {model_path or defaults.model}\n")
    print(f"{'setting':<34}{'precision':>10}{'recall':>8}{'false hits':>12}")
    rows = [(f"default: cos >= {defaults.similarity_threshold} + guard", defaults.similarity_threshold, True)]
    rows += [(f"cosine alone >= {t}", t, False) for t in (0.85, 0.9, 0.95)]
    rows += [(f"cos >= {t} + guard", t, True) for t in (0.75, 0.8, 0.9)]
    for label, threshold, guard in rows:
        total, _ = score(pairs, sims, threshold, guard)
        print(f"{label:<34}{total.precision:>10.3f}{total.recall:>8.3f}{total.fp:>12}")
    batched = await similarities(embedder, pairs, batched=True)
    total, _ = score(pairs, batched, defaults.similarity_threshold, True)
    label = "default, batched as under load"
    print(f"{label:<34}{total.precision:>10.3f}{total.recall:>8.3f}{total.fp:>12}")
    _, kinds = score(pairs, sims, defaults.similarity_threshold, True)
    print(f"\n{'kind (default settings)':<24}{'pairs':>6}{'hits':>6}{'misses':>8}")
    for kind, s in sorted(kinds.items()):
        print(f"{kind:<24}{s.tp + s.fp + s.fn + s.tn:>6}{s.tp + s.fp:>6}{s.fn + s.tn:>8}")
    await embedder.close()


async def hit_latency(model_path: str | None, hits: int) -> None:
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
    print(f"\n## Hit path through the proxy ({hits} requests each, one client, SQLite)\n")
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
    args = parser.parse_args()
    model_path = args.model_path or None
    asyncio.run(quality(model_path))
    asyncio.run(hit_latency(model_path, args.hits))
    asyncio.run(lookups([int(s) for s in args.sizes.split(",") if s]))


if __name__ == "__main__":
    main()
