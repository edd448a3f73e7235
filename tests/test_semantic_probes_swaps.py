"""Swapped entities: two questions with the same words where two things trade places and the answer changes.

The pairs are in ``tests/data/semantic_probes_swaps.jsonl`` (15 domains), in two batches, each committed before it
was scored (the second written after the rules), none from the labelled sets. Near-misses swap the two ends of a
direction ("from savings to checking"), the subject and the object of a short question ("Do plants need animals?"),
a passive's doer ("Was Napoleon defeated by Wellington?" / "Did Napoleon defeat Wellington?"), a person's case ("my
landlord sued me" / "I sued my landlord"), the head of an "of" ("a pound of iron"). Paraphrases keep the roles in the
same frames: symmetric relations ("difference between", "vs", "compatible with", "A and B together") and voice
changes that keep who does what. They are judged as the proxy judges them (``b`` asked, ``a`` cached), with the
measured model; every near-miss must be refused both ways.
"""

from __future__ import annotations

import pytest

from layercache_asgi.semantic._guard import Guard

from ._probes import accepted_share, load_probes, passing_near_misses

PROBES, NEAR_MISSES, PARAPHRASES = load_probes("semantic_probes_swaps")
# Guard alone. Batch 1 (147 pairs): 13 of 84 near-misses let through before this round's rules, 0 after; 43 of 63
# paraphrases accepted before and after. Batch 2 (24 pairs), written after the rules: 2 of 15 near-misses through (a
# passive with "beaten", a statement without an auxiliary: both fixed), 9 of 9 paraphrases. The paraphrases refused
# are mostly "A vs B" turned round: the project set labels "Lakers vs Celtics score" / "Celtics vs Lakers score" a
# near-miss (home and away), so "vs" keeps its order. Numbers joined by "and" / "times" / "plus" may change places
# since (3 more: 55 of 72).
RECALL_FLOOR = 0.72

# The guard with the measured cuts and the word table loaded: `guard` and `lexicon` in tests/conftest.py.
pytestmark = pytest.mark.usefixtures("lexicon")


def test_the_probe_set_covers_many_domains() -> None:
    assert len(PROBES) >= 120
    assert len(NEAR_MISSES) >= 60
    assert len({p["domain"] for p in PROBES}) >= 10
    assert {p["kind"] for p in PROBES} == {"swapped_entities", "paraphrase"}


async def test_near_misses_are_refused(guard: Guard) -> None:
    assert await passing_near_misses(guard, NEAR_MISSES) == []


async def test_most_paraphrases_are_accepted(guard: Guard) -> None:
    assert await accepted_share(guard, PARAPHRASES) >= RECALL_FLOOR


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        # A yes/no question's subject trades places with a word after its verb.
        ("Do plants need animals to survive?", "Do animals need plants to survive?"),
        ("Can my dog give my cat fleas?", "Can my cat give my dog fleas?"),
        ("Is a square a type of rectangle?", "Is a rectangle a type of square?"),
        ("Is every integer a rational number?", "Is every rational number an integer?"),
        # A passive's subject is the active's object: its doer ("by ...") is the active's subject.
        ("Was Napoleon defeated by Wellington?", "Did Napoleon defeat Wellington?"),
        ("Was Liverpool beaten by Manchester United last season?", "Did Liverpool beat Manchester United last season?"),
        ("Was Federer beaten by Djokovic at Wimbledon?", "Did Federer beat Djokovic at Wimbledon?"),
        # A person who acts in one and is acted on in the other: "I" / "me".
        ("My landlord sued me, what should I do?", "I sued my landlord, what should I do?"),
        ("My brother owes me money, what can I do?", "I owe my brother money, what can I do?"),
        ("My coworker reported me to HR, what now?", "I reported my coworker to HR, what now?"),
        # What an "of" belongs to stays with it.
        (
            "Which is heavier, a kilogram of iron or a pound of feathers?",
            "Which is heavier, a pound of iron or a kilogram of feathers?",
        ),
        # A number is what a marker points at too ("to my 401k"); "to" and "into" may point at more than one thing.
        ("Can I transfer funds from my Roth IRA to my 401k?", "Can I transfer funds from my 401k to my Roth IRA?"),
        ("Is it better to roll a 401k into an IRA?", "Is it better to roll an IRA into a 401k?"),
        # Numbers keep their order unless a commutative word joins them.
        ("What is 10 minus 3?", "What is 3 minus 10?"),
        ("How many cm is 5 feet and 3 inches?", "How many cm is 3 feet and 5 inches?"),
        ("What is 20% of 50?", "What is 50% of 20?"),
    ],
)
async def test_swapped_roles_are_refused(guard: Guard, cached: str, asked: str) -> None:
    assert not (await guard.judge(asked, cached)).same
    assert not (await guard.judge(cached, asked)).same


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        # Voice changes that keep who does what.
        ("Was Carthage defeated by Rome?", "Did Rome defeat Carthage?"),
        ("Was America discovered by Columbus?", "Did Columbus discover America?"),
        ("Was Federer beaten by Djokovic at Wimbledon?", "Did Djokovic beat Federer at Wimbledon?"),
        # Things joined as equals may change order; a clause may move.
        ("Can cats and dogs live together?", "Can dogs and cats live together?"),
        ("Can I take ibuprofen and acetaminophen together?", "Can I take acetaminophen and ibuprofen together?"),
        ("If I cancel now, do I get a refund?", "Do I get a refund if I cancel now?"),
        ("Does alcohol interact with antibiotics?", "Do antibiotics interact with alcohol?"),
        # Two numbers joined by "and", "times" or "plus" may change places.
        ("What is 7 times 8?", "What is 8 times 7?"),
        ("What is the greatest common divisor of 12 and 18?", "What is the GCD of 18 and 12?"),
    ],
)
async def test_the_same_roles_are_accepted(guard: Guard, cached: str, asked: str) -> None:
    assert (await guard.judge(asked, cached)).same
