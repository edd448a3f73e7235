"""Near-misses the guard used to pass, and paraphrases of the same shapes that must stay hits.

The pairs are in ``tests/data/semantic_probes_precision.jsonl`` (written for these tests, none
from the labelled sets), each with its ``kind``: a similar entity of one sort (router / modem),
general vs specific (loan / mortgage), two real words a typo apart (affect / effect), an aspect
added to "What is X?" ("used for", "how does X work"), roles swapped ("a will" the document).
They are judged as the proxy judges them, with the measured model (word vectors and weighing on),
in both directions.
"""

from __future__ import annotations

import pytest

from layercache_asgi.semantic._guard import Guard
from layercache_asgi.semantic._question import parse

from ._probes import load_probes, passing_near_misses

PROBES, NEAR_MISSES, PARAPHRASES = load_probes("semantic_probes_precision")


# The guard with the measured cuts and the word table loaded: `guard` and `lexicon` in tests/conftest.py.
pytestmark = pytest.mark.usefixtures("lexicon")


def test_the_probe_set_covers_each_shape() -> None:
    kinds = {kind for kind, *_ in NEAR_MISSES}
    assert {"similar entity", "general vs specific", "real-word typo", "different aspect", "role swap"} <= kinds
    assert len(PROBES) >= 80
    assert len(PARAPHRASES) >= 20


async def test_near_misses_are_refused(guard: Guard) -> None:
    assert await passing_near_misses(guard, NEAR_MISSES) == []


async def test_paraphrases_of_the_same_shapes_are_accepted(guard: Guard) -> None:
    refused = [
        (kind, a, b)
        for kind, a, b in PARAPHRASES
        if not ((await guard.judge(b, a)).same and (await guard.judge(a, b)).same)
    ]
    assert refused == []


@pytest.mark.parametrize(
    ("asked", "cached", "reason"),
    [
        ("How does caffeine effect sleep?", "How does caffeine affect sleep?", "two words a typo apart"),
        ("What is HTML used for?", "What is HTML?", "aspect differs"),
        ("How does a turbine work?", "What is a turbine?", "aspect differs"),
    ],
)
async def test_the_refusal_says_why(guard: Guard, asked: str, cached: str, reason: str) -> None:
    assert (await guard.judge(asked, cached)).reason == reason


def test_a_modal_after_a_determiner_is_a_noun() -> None:
    will = parse("Does a will override a trust?")
    assert will.words[will.content[0]] == "will"
    assert "future" not in will.tense
    assert "future" in parse("Will the bank approve my loan?").tense
    can = parse("How do I open a can of beans?")
    assert "can" in [can.words[i] for i in can.content]


async def test_typos_of_non_words_and_vectors_of_other_words_still_pair(guard: Guard) -> None:
    assert (await guard.judge("How do I recieve a parcel?", "How do I receive a parcel?")).same
    assert (await guard.judge("How do I reduce my debt fast?", "How do I reduce my debt quickly?")).same
