"""What the miss explainer's "where" costs per request, beside the layering every request already pays.

A Claude Code-shaped Anthropic request (a 20 KB system block, 60 tools, 300 history messages of
1.5 KB each: about 530 KB) is timed, in process, for:

- stratify: the layers and part hashes (done for every request before this feature);
- block prints: the per-block hash and length the explainer keeps for each request;
- chunk prints, first turn: hashes of every block's chunks (a new session: no block known yet);
- chunk prints, next turn: only the blocks not seen before (two new messages).

    python bench/explain_cost.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from layercache_asgi.explain import block_texts, chunk_print, prints_of
from layercache_asgi.prompt._layers import stratify


def request(turns: int) -> dict[str, Any]:
    tools = [
        {"name": f"tool_{i}", "description": "d" * 800, "input_schema": {"type": "object", "properties": {}}}
        for i in range(60)
    ]
    messages: list[Any] = []
    for i in range(turns):
        messages.append({"role": "user", "content": [{"type": "text", "text": f"question {i} " + "u" * 1500}]})
        messages.append({"role": "assistant", "content": [{"type": "text", "text": f"answer {i} " + "a" * 1500}]})
    messages.append({"role": "user", "content": "next"})
    return {"system": [{"type": "text", "text": "s" * 20_000}], "tools": tools, "messages": messages}


def timed(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    first, nxt = request(150), request(151)
    size = len(str(first)) // 1024
    known = {p.digest for p in prints_of(block_texts("anthropic", first))}

    def new_chunks() -> None:
        texts = block_texts("anthropic", nxt)
        for block, (_path, text) in zip(prints_of(texts), texts, strict=True):
            if block.digest not in known:
                chunk_print(text)

    rows = [
        ("stratify (every request, before)", timed(lambda: stratify("anthropic", first), args.repeat)),
        ("block prints (every request)", timed(lambda: prints_of(block_texts("anthropic", first)), args.repeat)),
        (
            "chunk prints, first turn",
            timed(lambda: [chunk_print(t) for _, t in block_texts("anthropic", first)], args.repeat),
        ),
        ("block prints + new chunk prints, next turn", timed(new_chunks, args.repeat)),
    ]
    base = rows[0][1]
    print(f"request of about {size} KB, {len(first['messages'])} messages, best of {args.repeat}")
    print(f"{'step':<45} {'ms':>8} {'x stratify':>11}")
    for name, ms in rows:
        print(f"{name:<45} {ms:>8.2f} {ms / base:>11.2f}")


if __name__ == "__main__":
    main()
