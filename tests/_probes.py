"""The probe sets of the semantic guard (``tests/data/semantic_probes_*.jsonl``): pairs written for
probing, each with ``kind``, ``same``, ``a`` (cached) and ``b`` (asked)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from layercache_asgi.semantic._guard import Guard

Pair = tuple[str, str, str]  # (kind, a, b)


def load_probes(name: str) -> tuple[list[dict[str, Any]], list[Pair], list[Pair]]:
    """All rows of ``tests/data/<name>.jsonl``, then its near-misses and its paraphrases as (kind, a, b)."""
    path = Path(__file__).parent / "data" / f"{name}.jsonl"
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    near_misses = [(p["kind"], p["a"], p["b"]) for p in rows if not p["same"]]
    paraphrases = [(p["kind"], p["a"], p["b"]) for p in rows if p["same"]]
    return rows, near_misses, paraphrases


async def passing_near_misses(guard: Guard, near_misses: list[Pair]) -> list[Pair]:
    """The near-misses the guard accepts either way round (each must be refused both ways)."""
    return [(k, a, b) for k, a, b in near_misses if (await guard.judge(b, a)).same or (await guard.judge(a, b)).same]


async def accepted_share(guard: Guard, paraphrases: list[Pair]) -> float:
    """The share of paraphrases accepted as the proxy judges them: ``b`` asked, ``a`` cached."""
    accepted = [(k, a, b) for k, a, b in paraphrases if (await guard.judge(b, a)).same]
    return len(accepted) / len(paraphrases)
