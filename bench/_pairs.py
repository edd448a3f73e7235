"""The labelled question pairs of bench/data/semantic_pairs/ (see its README).

`same` is true when a cached answer to `a` fully and correctly answers `b`. Tuning reads
`load_pairs("dev")` only; `load_pairs("test")` is for the figures that get reported.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PAIRS_DIR = Path(__file__).resolve().parent / "data" / "semantic_pairs"
SPLITS = ("dev", "test")

__all__ = ["PAIRS_DIR", "SPLITS", "Pair", "assign_splits", "counts_markdown", "load_pairs"]


@dataclass(frozen=True, slots=True)
class Pair:
    id: str
    a: str
    b: str
    same: bool
    kind: str
    domain: str
    split: str


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def assign_splits(items: Iterable[tuple[str, str, str]]) -> dict[str, str]:
    """Split (id, domain, kind) items: within each (domain, kind) group, ids in hash order alternate
    dev/test, the group's hash choosing which comes first, so every group is split within one
    pair and the split of a pair never depends on what other groups hold."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for pair_id, domain, kind in items:
        groups[domain, kind].append(pair_id)
    out: dict[str, str] = {}
    for (domain, kind), ids in groups.items():
        first = _digest(f"{domain}/{kind}")[0] & 1
        for n, pair_id in enumerate(sorted(ids, key=_digest)):
            out[pair_id] = SPLITS[(n + first) % 2]
    return out


def load_pairs(split: str | None = None, directory: Path = PAIRS_DIR) -> list[Pair]:
    """Every pair of every domain file (sorted by file name, then file order); `split` keeps one split."""
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} or None, not {split!r}")
    pairs: list[Pair] = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                pairs.append(Pair(**json.loads(line)))
    return [p for p in pairs if split is None or p.split == split]


def counts_markdown(pairs: list[Pair]) -> str:
    """The count tables of the README (regenerate with `python bench/_pairs.py`; a test keeps them true)."""
    lines = ["| domain | same | not same | dev | test | total |", "|---|---:|---:|---:|---:|---:|"]
    for domain in sorted({p.domain for p in pairs}):
        rows = [p for p in pairs if p.domain == domain]
        lines.append(_count_row(domain, rows))
    lines.append(_count_row("**all**", pairs))
    lines += ["", "| kind | label | dev | test | total |", "|---|---|---:|---:|---:|"]
    kinds = sorted({(not p.same, p.kind) for p in pairs})
    for not_same, kind in kinds:
        rows = [p for p in pairs if p.kind == kind]
        dev = sum(p.split == "dev" for p in rows)
        label = "not same" if not_same else "same"
        lines.append(f"| {kind} | {label} | {dev} | {len(rows) - dev} | {len(rows)} |")
    return "\n".join(lines) + "\n"


def _count_row(name: str, rows: list[Pair]) -> str:
    same = sum(p.same for p in rows)
    dev = sum(p.split == "dev" for p in rows)
    return f"| {name} | {same} | {len(rows) - same} | {dev} | {len(rows) - dev} | {len(rows)} |"


if __name__ == "__main__":
    print(counts_markdown(load_pairs()), end="")
