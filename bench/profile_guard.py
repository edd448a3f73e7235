"""Event-loop time the guard spends judging a lookup's candidates, on real questions.

``profile_semantic.py`` asks templated questions ("question N: what is N plus N?") that the guard
refuses at its first check (the numbers differ); real questions go the whole way through it. Here
the labelled dev questions are split into stored and new ones, each new question is judged against
its 8 nearest stored ones (by the model's cosine, as a lookup's candidates), and the guard's CPU
time is printed: the first pass (its memos cold; word vectors learned on the way, as a running
cache would have them) and the best of three passes after it (warm). The same verdicts are kept on
every pass. Compare two checkouts by running it in each.

    python bench/profile_guard.py [--stored 400] [--new 300] [--model-path DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _pairs import load_pairs  # noqa: E402

from layercache_asgi._lru import LRU  # noqa: E402
from layercache_asgi.semantic._embedder import Embedder  # noqa: E402
from layercache_asgi.semantic._guard import VERDICTS_KEPT, Guard  # noqa: E402
from layercache_asgi.semantic._lexicon import load_lexicon  # noqa: E402
from layercache_asgi.semantic._thresholds import resolve_thresholds, resolve_weighing  # noqa: E402
from layercache_asgi.settings._semantic import SemanticCacheSettings  # noqa: E402

CANDIDATES = 8  # a lookup judges at most this many (SemanticStore.candidates)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stored", type=int, default=400)
    parser.add_argument("--new", type=int, default=300)
    parser.add_argument("--model-path", default=str(HERE.parent.parent / "shared/models/all-MiniLM-L6-v2-int8"))
    args = parser.parse_args()

    load_lexicon()
    settings = SemanticCacheSettings(enabled=True, model_path=args.model_path)
    _threshold, cut = resolve_thresholds(settings)
    weighing = resolve_weighing(settings)
    questions = sorted({q for pair in load_pairs("dev") for q in (pair.a, pair.b)})
    random.Random(1).shuffle(questions)
    stored, new = questions[: args.stored], questions[args.stored : args.stored + args.new]
    embedder = Embedder(model_path=args.model_path)
    await embedder.load()
    rows = await embedder.embed(stored + new)
    near = rows[: len(stored)] @ rows[len(stored) :].T
    lookups = [(q, [stored[j] for j in np.argsort(-near[:, i])[:CANDIDATES]]) for i, q in enumerate(new)]
    guard = Guard(embedder)

    cold = time.process_time()
    first = []
    for question, candidates in lookups:
        for candidate in candidates:
            first.append((await guard.judge(question, candidate, cut, weighing)).same)
    cold = time.process_time() - cold  # includes the model calls for word vectors: an upper bound

    warm = float("inf")
    for _ in range(3):
        guard._verdicts = LRU(VERDICTS_KEPT)  # judged again, not read from the verdict memo
        started = time.process_time()
        again = [guard.check(q, c, cut, weighing).same for q, candidates in lookups for c in candidates]
        warm = min(warm, time.process_time() - started)
        assert again == first, "a verdict changed between passes"

    checks = len(first)
    print(f"\n{len(lookups)} lookups of {CANDIDATES} candidates ({checks} judgements, {sum(first)} accepted)\n")
    print("| pass | ms a lookup | us a judgement |")
    print("|---|---|---|")
    for label, spent in (("first (memos cold, word vectors learned)", cold), ("warm (best of 3)", warm)):
        print(f"| {label} | {spent * 1000 / len(lookups):.2f} | {spent * 1e6 / checks:.0f} |")
    await embedder.close()


if __name__ == "__main__":
    asyncio.run(main())
