"""The semantic-cache yardstick (bench/data/semantic_pairs/) is well formed and balanced.

The set is only honest if it stays as written: these checks catch a broken line, a pair
moved between splits (the split is a fixed function of id, domain and kind), a kind missing
from one split, or a lopsided label balance.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
FIELDS = {"id", "a", "b", "same", "kind", "domain", "split"}


def _load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_pairs", BENCH / "_pairs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


pairs_module = _load_module()


@pytest.fixture(scope="module")
def raw() -> list[dict[str, object]]:
    rows = []
    for path in sorted(pairs_module.PAIRS_DIR.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert line.strip(), f"{path.name}:{number} is blank"
            row = json.loads(line)
            assert row.get("domain") == path.stem, f"{path.name}:{number} domain {row.get('domain')!r}"
            rows.append(row)
    return rows


def test_schema(raw: list[dict[str, object]]) -> None:
    for row in raw:
        assert set(row) == FIELDS, row
        assert isinstance(row["same"], bool), row
        for field in ("id", "a", "b", "kind", "domain", "split"):
            value = row[field]
            assert isinstance(value, str) and value.strip() == value and value, row
        assert row["split"] in pairs_module.SPLITS, row
        assert str(row["id"]).startswith(f"{row['domain']}-"), row


def test_ids_unique_pairs_distinct_and_sides_differ(raw: list[dict[str, object]]) -> None:
    ids = Counter(row["id"] for row in raw)
    assert [i for i, n in ids.items() if n > 1] == []
    # Unordered, so a pair and its mirror image do not both count.
    texts = Counter(frozenset((row["a"], row["b"])) for row in raw)
    assert [sorted(map(str, t)) for t, n in texts.items() if n > 1] == []
    assert [row["id"] for row in raw if row["a"] == row["b"]] == []


def test_size_and_domains(raw: list[dict[str, object]]) -> None:
    assert len(raw) >= 800
    assert len({row["domain"] for row in raw}) >= 12


def test_every_kind_in_both_splits(raw: list[dict[str, object]]) -> None:
    by_kind: dict[object, set[object]] = {}
    for row in raw:
        by_kind.setdefault(row["kind"], set()).add(row["split"])
    assert {kind: splits for kind, splits in by_kind.items() if len(splits) < 2} == {}
    # A kind never carries both labels: it names how a paraphrase or a near miss was made.
    labels: dict[object, set[object]] = {}
    for row in raw:
        labels.setdefault(row["kind"], set()).add(row["same"])
    assert {kind: same for kind, same in labels.items() if len(same) > 1} == {}


def test_split_and_label_balance(raw: list[dict[str, object]]) -> None:
    dev = sum(row["split"] == "dev" for row in raw) / len(raw)
    same = sum(row["same"] is True for row in raw) / len(raw)
    assert 0.4 <= dev <= 0.6, dev
    assert 0.4 <= same <= 0.6, same
    for split in pairs_module.SPLITS:
        rows = [row for row in raw if row["split"] == split]
        assert 0.4 <= sum(row["same"] is True for row in rows) / len(rows) <= 0.6, split


def test_split_is_the_documented_function_of_id_domain_and_kind(raw: list[dict[str, object]]) -> None:
    expected = pairs_module.assign_splits((row["id"], row["domain"], row["kind"]) for row in raw)
    moved = [row["id"] for row in raw if row["split"] != expected[row["id"]]]
    assert moved == []


def test_loader_reads_every_pair_and_filters_by_split(raw: list[dict[str, object]]) -> None:
    everything = pairs_module.load_pairs(None)
    dev, test = pairs_module.load_pairs("dev"), pairs_module.load_pairs("test")
    assert len(everything) == len(raw) == len(dev) + len(test)
    assert {p.split for p in dev} == {"dev"} and {p.split for p in test} == {"test"}
    assert {p.id for p in everything} == {row["id"] for row in raw}
    first = everything[0]
    assert isinstance(first, pairs_module.Pair) and isinstance(first.same, bool)
    with pytest.raises(ValueError, match="split"):
        pairs_module.load_pairs("train")


def test_readme_counts_are_current() -> None:
    readme = (pairs_module.PAIRS_DIR / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- counts:start -->\n", 1)[1].split("<!-- counts:end -->", 1)[0]
    assert block == pairs_module.counts_markdown(pairs_module.load_pairs()), "run python bench/_pairs.py"


def test_readme_examples_are_pairs_of_the_set() -> None:
    readme = (pairs_module.PAIRS_DIR / "README.md").read_text(encoding="utf-8")
    texts = {(p.a, p.b, p.kind) for p in pairs_module.load_pairs()}
    examples = []
    for line in readme.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 2 and " → " in cells[1] and cells[0] != "kind":
            a, b = cells[1].split(" → ", 1)
            examples.append((a, b, cells[0]))
    assert len(examples) >= 20
    assert [e for e in examples if e not in texts] == []
