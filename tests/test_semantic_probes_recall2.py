"""Paraphrases of the common shapes users type, and near-misses of the same shapes (round 2 of recall probes).

The pairs are in ``tests/data/semantic_probes_recall2.jsonl``, written in one go (12 domains) and committed before
any was scored, none from the labelled sets: question forms ("When is the best time to X" / "When should I X",
"At what age" / "When", "What if" / "What happens if", "How come" / "Why", "Explain X" / "What is X"), keyword
queries and abbreviations (min, max, temp, approx, w/, w/o, vs, info, pic, app, config, repo, docs, appt) and
everyday synonyms (clogged / blocked, potty train / house-train, make / file a claim, fix / repair, kid / child,
buy / purchase, pick / choose, big / large, fast / quick), with near-misses that change an entity, a number, a
direction, a negation or a time in the same frame. They are judged as the proxy judges them (``b`` asked, ``a``
cached), with the measured model (word vectors and weighing on); every near-miss must be refused both ways.
"""

from __future__ import annotations

import pytest

from layercache_asgi.semantic._guard import Guard
from layercache_asgi.semantic._question import parse

from ._probes import accepted_share, load_probes, passing_near_misses

PROBES, NEAR_MISSES, PARAPHRASES = load_probes("semantic_probes_recall2")
# Paraphrases accepted (guard alone): 206 of 220 here (0.94). Each batch was committed before it was scored:
# the first 132 -> 166 of 177 with the rules it found; the second 15 (before those rules) -> 20 (after) -> 25 of 25;
# the third 5 -> 15 of 18.
RECALL_FLOOR = 0.93


# The guard with the measured cuts and the word table loaded: `guard` and `lexicon` in tests/conftest.py.
pytestmark = pytest.mark.usefixtures("lexicon")


def test_the_probe_set_covers_the_common_shapes_in_many_domains() -> None:
    kinds = {kind for kind, *_ in PARAPHRASES}
    assert {"question_form", "keyword_query", "abbreviation", "synonym", "combined", "implicature"} <= kinds
    assert len(PARAPHRASES) >= 150
    assert len(NEAR_MISSES) >= 60
    assert len({p["domain"] for p in PROBES}) >= 8


async def test_near_misses_are_refused(guard: Guard) -> None:
    assert await passing_near_misses(guard, NEAR_MISSES) == []


async def test_most_paraphrases_are_accepted(guard: Guard) -> None:
    assert await accepted_share(guard, PARAPHRASES) >= RECALL_FLOOR


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        # "What if X?" asks what happens if X.
        ("What happens if I miss my connecting flight?", "What if I miss my connecting flight?"),
        # "At what age" asks when; "When should I X?" asks the best time to X.
        ("At what age do babies start walking?", "When do babies start walking?"),
        ("At what age should I get a colonoscopy?", "When should I get a colonoscopy?"),
        ("When is the best time to plant tulip bulbs?", "When should I plant tulip bulbs?"),
        # Ages and short forms typed by a number.
        ("How much should a one-year-old eat?", "how much should a 1 year old eat"),
        ("How much should a 6-month-old baby sleep?", "how much should a 6 mo old baby sleep"),
        ("How many hours should a 3 year old sleep?", "how many hours should a 3yo sleep"),
        # "min" before a noun.
        ("What is the minimum temperature a lemon tree can survive?", "min temp a lemon tree can survive"),
        # Everyday synonyms WordNet does not link.
        ("How do I fix a clogged drain?", "How do I fix a blocked drain?"),
        ("How do I unclog a kitchen sink?", "How do I unblock a kitchen sink?"),
        ("How do I house-train a puppy?", "How do I potty train a puppy?"),
        ("How do I file an insurance claim?", "How do I make an insurance claim?"),
        ("What is the fastest way to thaw chicken?", "What is the quickest way to thaw chicken?"),
        ("How do I add a column to a pandas DataFrame?", "How do I insert a column into a pandas DataFrame?"),
        # A keyword query's -ed word before a content word is a participle.
        ("How many calories does running a mile burn?", "calories burned running a mile"),
        # "interval" asks how often; texted "4" after "needed" is "for".
        ("How often should I change my engine oil?", "engine oil change interval"),
        ("What GPA do I need for Harvard?", "gpa needed 4 harvard?"),
        # After a superlative "on Earth", "on the planet" and "in the world" say one thing; chat interjections frame.
        ("What is the deepest lake in the world?", "deepest lake on the planet?"),
        ("What is the largest ocean on Earth?", "whats the biggest ocean on the planet"),
        ("How do I cancel my gym membership?", "how do i cancel my gym membership smh"),
        ("How do I get a copy of my birth certificate?", "how 2 get a copy of my birth cert"),
        # "How far in advance" asks how early; "any advice" frames like "any tips"; British and American words.
        ("How early should I send wedding invitations?", "How far in advance should I send wedding invitations?"),
        ("How do I stop snoring?", "any advice on how to stop snoring"),
        ("How do I charge a flat car battery?", "How do I charge a dead car battery?"),
        ("How do I ask for a raise?", "How do I ask for a pay rise?"),
        ("How do I tell my manager I am resigning?", "how do i tell my boss im quitting"),
        ("How many calories are in a banana?", "how many cals in a banana"),
        # A gerund in one slot is not made a noun apart: free shipping is free delivery.
        ("Is there free delivery on returns?", "Is there free shipping on returns?"),
    ],
)
async def test_common_shapes_are_accepted(guard: Guard, cached: str, asked: str) -> None:
    assert (await guard.judge(asked, cached)).same


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        ("What happens if I miss my flight?", "What if I miss my train?"),
        ("At what age do babies start walking?", "When do babies start talking?"),
        ("At what age did Mozart die?", "When did Mozart die?"),  # of one life, an age and a date: two answers
        ("At what age does Messi plan to retire?", "When does Messi plan to retire?"),
        ("When should I stop taking antibiotics?", "When is the best time to start taking antibiotics?"),
        ("How much should a one-year-old eat?", "How much should a 2 year old eat?"),
        ("how much should a 6 mo old baby sleep", "How much should a 6 year old sleep?"),
        ("min temp for a lemon tree", "max temp for a lemon tree"),
        ("How do I unclog a toilet?", "How do I unblock a sink?"),
        ("How do I potty train a puppy?", "How do I crate train a puppy?"),
        ("How do I make a warranty claim?", "How do I file an insurance claim?"),
        ("Why is my metabolism so fast?", "Why is my metabolism so slow?"),
        ("How do I insert a row into a table?", "How do I add a column to a table?"),
        ("credit score dropped", "Why does my credit score drop?"),  # no content word after it: the past
        ("How much water should a kid drink a day?", "How much milk should a kid drink a day?"),
        ("How come my dog eats grass?", "How come my dog eats dirt?"),
        ("red wine carpet stain removal", "red wine sofa stain removal"),
        ("engine oil change interval", "engine oil change cost"),
        ("What is the tallest mountain on Earth?", "What is the tallest mountain on Mars?"),
        ("How far in advance should I book a train ticket in Italy?", "How late can I book a train ticket in Italy?"),
        ("any advice on how to stop snoring", "any advice on how to stop sleepwalking"),
        ("How do I charge a flat car battery?", "How do I fix a flat car tyre?"),
        ("How do I ask for a pay rise?", "How do I refuse a pay cut?"),
        ("How do I tell my boss I'm pregnant?", "How do I tell my coworkers I'm pregnant?"),
        ("What is the largest ocean in the world?", "What is the largest ocean in Asia?"),
    ],
)
async def test_their_near_misses_are_refused(guard: Guard, cached: str, asked: str) -> None:
    assert not (await guard.judge(asked, cached)).same
    assert not (await guard.judge(cached, asked)).same


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("What if it rains?", ["what", "happens", "if", "it", "rains"]),
        ("At what age do kids walk?", ["when", "do", "kids", "walk"]),
        ("a 10 min walk", ["a", "10min", "walk"]),  # after a number "min" is minutes
        ("wait a min", ["wait", "a", "min"]),
        ("min temp", ["minimum", "temperature"]),
        ("Why is my metabolism so fast?", ["why", "is", "my", "metabolism", "so", "fast"]),  # no way-noun after it
        ("fastest route", ["quickest", "route"]),
        ("a flat tyre", ["a", "flat", "tyre"]),
        ("How do I clean suede clogs?", ["how", "do", "i", "clean", "suede", "clogs"]),  # shoes
        ("It unclogs drains", ["it", "unblocks", "drains"]),  # only a battery is dead when flat
        ("Who is the boss of Apple?", ["who", "is", "the", "boss", "of", "apple"]),
        ("Can I boss him around?", ["can", "i", "boss", "him", "around"]),
        ("the tallest tree in the world", ["the", "tallest", "tree", "on", "earth"]),
        ("Is there life on Earth?", ["is", "there", "life", "on", "earth"]),  # no superlative: Earth stays
        ("Is milk ok needed 4 days later?", ["is", "milk", "ok", "needed", "4d", "later"]),  # a count stays one
    ],
)
def test_everyday_wordings_are_put_in_one_form(text: str, words: list[str]) -> None:
    assert list(parse(text).words) == words
