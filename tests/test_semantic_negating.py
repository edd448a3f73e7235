"""Verbs that say "not" (fail / forget / refuse to, a thing that stops doing) and times placed from now.

"fails to pay" asks what "doesn't pay" asks and the opposite of "pays"; "this year's sales" and "last
year's sales" are two answers. Judged as the proxy judges them (``b`` asked, ``a`` cached) and the other
way round, with the measured model (word vectors and weighing on).
"""

from __future__ import annotations

import pytest

from layercache_asgi.semantic._guard import Guard
from layercache_asgi.semantic._negating import negating

pytestmark = pytest.mark.usefixtures("lexicon")


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("What if my insurer fails to pay my claim?", "What if my insurer doesn't pay my claim?"),
        ("I failed to file my tax return.", "I didn't file my tax return."),
        ("What if I forget to renew my passport?", "What if I don't renew my passport?"),
        ("What if the seller refuses to refund me?", "What if the seller won't refund me?"),
        ("Why does my microphone stop working?", "Why does my microphone not working?"),
        ("My laptop has stopped charging.", "My laptop not charging."),
        # A person stopping does it on purpose; a negation before it is left as typed (no double negation).
        ("How do I stop paying for Netflix?", "How do I stop paying for Netflix?"),
        ("How to stop snoring", "How to stop snoring"),
        ("Should I stop taking ibuprofen?", "Should I stop taking ibuprofen?"),
        ("Why won't my baby stop crying?", "Why won't my baby stop crying?"),
        ("He doesn't fail to impress.", "He doesn't fail to impress."),
        ("I forgot my password.", "I forgot my password."),
        ("I failed my driving test.", "I failed my driving test."),
    ],
)
def test_negating_verbs_are_spelt_as_a_negation(text: str, plain: str) -> None:
    assert negating(text) == plain


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        ("What if my insurer fails to pay my claim?", "What if my insurer doesn't pay my claim?"),
        ("What happens if I forget to renew my passport?", "What happens if I don't renew my passport?"),
        ("What if the seller refuses to refund me?", "What if the seller won't refund me?"),
        ("Why does my microphone stop working with headphones?", "Why doesn't my microphone work with headphones?"),
        ("My laptop stopped charging.", "Why is my laptop not charging?"),
    ],
)
async def test_a_negating_verb_is_a_negation(guard: Guard, cached: str, asked: str) -> None:
    assert (await guard.judge(asked, cached)).same
    assert (await guard.judge(cached, asked)).same


@pytest.mark.parametrize(
    ("cached", "asked", "reason"),
    [
        ("What if my insurer fails to pay my claim?", "What if my insurer pays my claim?", "negation differs"),
        ("What if the seller refuses to refund me?", "What if the seller refunds me?", "negation differs"),
        ("I forgot to pay my credit card bill.", "I paid my credit card bill.", "negation differs"),
        ("Why does my microphone stop working?", "Why does my microphone work?", "negation differs"),
        ("Why won't my baby stop crying?", "Why does my baby keep crying?", "negation differs"),
        ("How do I show this year's sales in Excel?", "How do I show last year's sales in Excel?", "time differs"),
        ("What should I plant this month?", "What should I plant next month?", "time differs"),
        ("What were the sales last quarter?", "What were the sales this quarter?", "time differs"),
        ("Why did my premium go up this year?", "Why did my premium go up last year?", "time differs"),
    ],
)
async def test_the_opposite_is_refused_at_a_hard_stop(guard: Guard, cached: str, asked: str, reason: str) -> None:
    # A hard stop, not the weighing's margin: the sentence model puts these pairs at 0.91-0.96.
    assert (await guard.judge(asked, cached)).reason == reason
    assert (await guard.judge(cached, asked)).reason == reason


async def test_a_time_named_on_one_side_only_is_left_to_the_other_checks(guard: Guard) -> None:
    # "this month" may well be "now": only two places of one unit of time are compared.
    verdict = await guard.judge("What should I plant in my garden now?", "What should I plant in my garden this month?")
    assert verdict.reason != "time differs"
