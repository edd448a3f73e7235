"""Near-misses over domains the other sets barely touch, and paraphrases of the same shapes.

The pairs are in ``tests/data/semantic_probes_precision2.jsonl``, written for these tests (none from
the labelled sets) before anything scored them: ten domains first (gardening, pets, parenting, music,
photography, public transport, insurance, chemistry homework, spreadsheets, tenancy), then, after the
guard's fixes for what the first round let through, five more to see whether the fixes hold (cycling,
skincare, banking, hiking, board games), then six more, mostly changed qualifiers (beekeeping, knitting,
real estate, aviation, 3D printing, weddings). Near-miss kinds: a similar entity, general vs specific, roles
swapped, a changed time, quantity or qualifier, negation said otherwise ("stop" / "keep" doing),
comparatives, another aspect, another audience, and the modal of a yes/no question ("Must I" / "Can I").
They are judged as the proxy judges them, with the measured model, in both directions.
"""

from __future__ import annotations

import pytest

from layercache_asgi.semantic._guard import Guard

from ._probes import load_probes, passing_near_misses

PROBES, NEAR_MISSES, PARAPHRASES = load_probes("semantic_probes_precision2")
# Paraphrases accepted both ways when the guard's fixes for this set landed (89 of 101): a floor, not a goal.
PARAPHRASES_ACCEPTED = 89

pytestmark = pytest.mark.usefixtures("lexicon")


def test_the_probe_set_covers_each_shape_over_new_domains() -> None:
    kinds = {kind for kind, *_ in NEAR_MISSES}
    assert {"similar entity", "general vs specific", "role swap", "changed time", "changed quantity"} <= kinds
    assert {"changed qualifier", "negation", "comparative", "different aspect", "audience", "modality"} <= kinds
    assert len({p["domain"] for p in PROBES}) >= 8
    assert len(NEAR_MISSES) >= 160
    assert len(PARAPHRASES) >= 60


async def test_near_misses_are_refused(guard: Guard) -> None:
    assert await passing_near_misses(guard, NEAR_MISSES) == []


async def test_paraphrases_of_the_same_shapes_are_accepted(guard: Guard) -> None:
    accepted = [
        (kind, a, b) for kind, a, b in PARAPHRASES if (await guard.judge(b, a)).same and (await guard.judge(a, b)).same
    ]
    assert len(accepted) >= PARAPHRASES_ACCEPTED, f"{len(accepted)} of {len(PARAPHRASES)} paraphrases accepted"


@pytest.mark.parametrize(
    ("asked", "cached", "reason"),
    [
        ("Must I book a seat on the Eurostar?", "Can I book a seat on the Eurostar?", "modality differs"),
        ("Do I have to microchip my dog?", "Should I microchip my dog?", "modality differs"),
        ("What must I bring on a plane?", "What can I bring on a plane?", "modality differs"),  # a duty is no leave
        ("What happens if I keep paying my premiums?", "What happens if I stop paying my premiums?", "phase differs"),
        ("How do I get bokeh?", "What is bokeh?", "aspect differs"),
        ("What is a radioactive isotope?", "What is an isotope?", "aspect differs"),
        ("Can I cancel my policy with my insurer?", "Can my insurer cancel my policy?", "order differs"),
        ("How do I highlight values less than 100?", "How do I highlight values greater than 100?", "opposites"),
    ],
)
async def test_the_refusal_says_why(guard: Guard, asked: str, cached: str, reason: str) -> None:
    assert (await guard.judge(asked, cached)).reason.startswith(reason)


@pytest.mark.parametrize(
    ("asked", "cached"),
    [
        ("How should I reheat leftover pizza?", "How can I reheat leftover pizza?"),  # the modal only frames "how"
        ("What should I do if my flight is cancelled?", "What can I do if my flight is cancelled?"),
        ("Is it necessary to wear sunscreen in winter?", "Do I need to wear sunscreen in winter?"),
        ("Is it possible to open a bank account online?", "Can I open a bank account online?"),
        ("How can I stop my puppy from biting?", "How can I prevent my puppy from biting?"),  # no -ing verb after
        ("Can I feed my dog grapes?", "Can my dog eat grapes?"),  # two verbs paired by meaning: converses
        ("What's niacinamide?", "What is niacinamide?"),
    ],
)
async def test_the_new_rules_leave_paraphrases_alone(guard: Guard, asked: str, cached: str) -> None:
    assert (await guard.judge(asked, cached)).same
    assert (await guard.judge(cached, asked)).same
