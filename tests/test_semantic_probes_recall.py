"""Paraphrases of the kinds the guard missed most, and near-misses of the same surface shapes.

The pairs are in ``tests/data/semantic_probes_recall.jsonl``, written for these tests in one go
per domain (14 domains) before any was scored, none from the labelled sets: synonym, register,
combined, keyword query, abbreviation, implicature and question form, with near-misses
(antonym, similar entity, different aspect, scope) built on the same questions. They are judged
as the proxy judges them (``b`` asked, ``a`` cached), with the measured model (word vectors and
weighing on). Not every paraphrase passes: the floor says how many, so a rule that loses some
shows here, and every near-miss must be refused in both directions.
"""

from __future__ import annotations

import pytest

from layercache_asgi.semantic._guard import Guard
from layercache_asgi.semantic._question import parse

from ._probes import accepted_share, load_probes, passing_near_misses

PROBES, NEAR_MISSES, PARAPHRASES = load_probes("semantic_probes_recall")
# Paraphrases accepted (guard alone): 133 of 166 here (0.80); 104 (0.63) before the rules these probes found.
RECALL_FLOOR = 0.78


# The guard with the measured cuts and the word table loaded: `guard` and `lexicon` in tests/conftest.py.
pytestmark = pytest.mark.usefixtures("lexicon")


def test_the_probe_set_covers_the_weak_kinds_in_many_domains() -> None:
    kinds = {kind for kind, *_ in PARAPHRASES}
    weak = {"synonym", "register", "combined", "keyword_query", "abbreviation", "implicature", "question_form"}
    assert weak <= kinds
    assert len(PROBES) >= 120
    assert len(NEAR_MISSES) >= 40
    assert len({p["domain"] for p in PROBES}) >= 10


async def test_near_misses_are_refused(guard: Guard) -> None:
    assert await passing_near_misses(guard, NEAR_MISSES) == []


async def test_most_paraphrases_are_accepted(guard: Guard) -> None:
    assert await accepted_share(guard, PARAPHRASES) >= RECALL_FLOOR


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        # A lesser degree said through the opposite word.
        ("Which is the cheapest airline to fly to Lisbon?", "Which is the least expensive airline to fly to Lisbon?"),
        ("Which laptop is cheaper, the Dell or the Lenovo?", "Which laptop is less expensive, the Dell or the Lenovo?"),
        # Idioms with a one-word standard form.
        ("My phone restarts all the time.", "Why does my phone keep restarting?"),
        ("How do I undo my last git commit?", "How do I undo the most recent commit in git?"),
        ("What is the most effective way to learn a language?", "What is the best way to learn a language?"),
        ("My bread always comes out dense.", "Why is my bread dense?"),
        ("how do i keep squirrels from digging up my bulbs", "How do I stop squirrels digging up my bulbs?"),
        # Asking whether to: "worth", "a good idea", "dumb".
        ("is it worth buying a refurbished iphone", "Should I buy a refurbished iPhone?"),
        ("is it a good idea to refinance my mortgage now", "Should I refinance my mortgage now?"),
        ("is it dumb to cash out my 401k early", "Is it a bad idea to withdraw my 401k early?"),
        # Texted spellings and a unit's short form after a number.
        ("how many hrs shd a teenager sleep", "How many hours should a teenager sleep?"),
        ("how much shd i feed a 10 wk old kitten", "How much should I feed a 10-week-old kitten?"),
        ("sourdough starter feeding schedule", "How often should I feed a sourdough starter?"),
        # Informal framings of "why" and "how to"; a bare verb after "did" is past.
        ("whats up with my eye twitching", "Why is my eye twitching?"),
        ("can't figure out how to stop snoring", "How do I stop snoring?"),
        ("how come my credit score dropped", "Why did my credit score drop?"),
        ("is there a way to get a refund on a non refundable flight", "Can I get a refund on a non-refundable flight?"),
        ("ielts band score calculation", "How is the IELTS band score calculated?"),
        # A compound written as one word or two.
        ("is it ok 2 workout w/ a cold", "Is it okay to work out with a cold?"),
        ("How do I set up a VPN on my router?", "How do I setup a VPN on my router?"),
    ],
)
async def test_general_rephrasings_are_accepted(guard: Guard, cached: str, asked: str) -> None:
    assert (await guard.judge(asked, cached)).same


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        ("Which is the least expensive phone plan?", "Which is the most expensive phone plan?"),
        ("Do I need a visa to visit Japan?", "Do I need a visa to work in Japan?"),  # "work" is a content word
        ("How much should a 6 wk old baby eat?", "How much should a 6 month old baby eat?"),
        ("Is it a good idea to buy a house now?", "Is it a bad idea to buy a house now?"),
        ("how come my credit score dropped", "how come my credit score went up"),
        ("Why did my credit score drop?", "Why does my credit score drop?"),
        ("Can I get a refund on a non refundable flight?", "Can I get a refund on a refundable flight?"),
        ("How do I back up my phone?", "How do I back up my phone case?"),  # the compound pairs, the rest still counts
    ],
)
async def test_their_near_misses_are_refused(guard: Guard, cached: str, asked: str) -> None:
    assert not (await guard.judge(asked, cached)).same


@pytest.mark.parametrize(
    ("texted", "plain"),
    [
        ("how often 2 bathe a cat", "how often to bathe a cat"),
        ("sub 4 buttermilk in pancakes?", "sub for buttermilk in pancakes"),
        ("how long does it take 4 a bank transfer", "how long does it take for a bank transfer"),
        ("is it ok 2 go swimming", "is it ok to go swimming"),
    ],
)
def test_texted_2_and_4_read_as_to_and_for(texted: str, plain: str) -> None:
    assert parse(texted).words == parse(plain).words


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Is milk good 4 days after opening?", "4d"),
        ("Is it ok 2 hours after eating?", "2h"),
        ("Is chocolate bad 4 dogs?", "4"),  # "for dogs" or four dogs: a count unless nothing else could be meant
        ("How do I feed 2 cats?", "2"),
    ],
)
def test_a_count_stays_a_number(text: str, number: str) -> None:
    assert number in parse(text).numbers
