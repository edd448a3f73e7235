"""Casual wordings, implied questions and everyday synonyms, by shapes that recur across domains (round 4 of recall
probes).

The pairs are in ``tests/data/semantic_probes_recall4.jsonl`` (29 domains), written in four batches, each committed
before it was scored (``batch`` in each row), none from the labelled sets. Batches 1, 3 and 5 probe shapes seen on dev
misses, in other domains: chat fillers ("even", "lol", "pls help"), "what's the trick / secret to X-ing", slang verbs
(haggle, kill a process, chill / freak out), "Do you offer X-ing?" / "Is X available?", "What documents are required
to X?", "I always mix up X and Y", "I have no X, what can I use instead?", "The X I ordered is too small.", "the rules
of X", "worth it or nah", "X makes no sense to me", working from home / remotely, "my X aches", recovering a password,
"the correct usage of X", "do I have to get X", "distinction between", "Saturdays and Sundays", "Is it advisable to
X?"; batches 2, 4 and 6 were written after the rules, to see whether they
carry. Near-misses change an entity, a size, a service, a verb or the problem in the same frame. They are judged as
the proxy judges them (``b`` asked, ``a`` cached), with the measured model; every near-miss must be refused both ways.
"""

from __future__ import annotations

import pytest

from layercache_asgi.semantic._guard import Guard
from layercache_asgi.semantic._question import parse

from ._probes import accepted_share, load_probes, passing_near_misses

PROBES, _near_misses, PARAPHRASES = load_probes("semantic_probes_recall4")
# A near-miss the guard let through before this round and still does: the word table lists "lay" as the past of
# "lie", so the two verbs share a base. Kept here so that it is seen, and a strict xfail below so that fixing it is
# noticed.
KNOWN_LEAK = ("What is the correct use of 'lay'?", "when do i use lie")
NEAR_MISSES = [(kind, a, b) for kind, a, b in _near_misses if (a, b) != KNOWN_LEAK]
# Paraphrases accepted (guard alone): 181 of 187 (0.97). Batch 1: 51 -> 99 of 104 with the rules it found (near-misses
# 1 -> 0 of 62 let through); batch 2, written after them: 29 of 30 (9 without them), 0 of 18 near-misses; batch 3:
# 10 -> 19 of 19, 0 of 14; batch 4, written after all the rules: 15 of 15 (5 without them), 1 of 10 near-misses
# through (KNOWN_LEAK, as before the rules); batch 5: 2 -> 10 of 10, near-misses 1 -> 0 of 8 let through (Fridays and
# Saturdays were paired with the weekends); batch 6, written after all the rules: 9 of 9 (2 without them), 0 of 6
# near-misses (1 without them).
RECALL_FLOOR = 0.95

# The guard with the measured cuts and the word table loaded: `guard` and `lexicon` in tests/conftest.py.
pytestmark = pytest.mark.usefixtures("lexicon")


def test_the_probe_set_covers_the_weakest_kinds_in_many_domains() -> None:
    kinds = {kind for kind, *_ in PARAPHRASES}
    assert {"register", "implicature", "combined", "synonym", "question_form", "keyword_query"} <= kinds
    assert len(PROBES) >= 200
    assert len(NEAR_MISSES) >= 80
    assert len({p["domain"] for p in PROBES}) >= 12


async def test_near_misses_are_refused(guard: Guard) -> None:
    assert await passing_near_misses(guard, NEAR_MISSES) == []


@pytest.mark.xfail(strict=True, reason="known leak, older than this round: lay / lie (see KNOWN_LEAK)")
async def test_the_known_leak_is_refused(guard: Guard) -> None:
    cached, asked = KNOWN_LEAK
    assert not (await guard.judge(asked, cached)).same


async def test_most_paraphrases_are_accepted(guard: Guard) -> None:
    assert await accepted_share(guard, PARAPHRASES) >= RECALL_FLOOR


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        # "I always mix up X and Y" and "When should I use X versus Y?" ask how X and Y differ.
        ("What is the difference between TCP and UDP?", "I always get TCP and UDP mixed up."),
        ("When should I use 'who' versus 'whom'?", "i keep confusing who and whom"),
        # "I have no X, what can I use instead?" asks for a substitute.
        ("What can I use instead of brown sugar?", "I ran out of brown sugar, what can I use instead?"),
        # "The X I ordered is too small." asks to exchange it for a bigger size.
        ("How do I exchange a sweater for a bigger size?", "The sweater I bought is too tight."),
        # "X makes no sense to me" / "I don't understand X." ask to explain X.
        ("I don't understand photosynthesis.", "photosynthesis makes no sense to me"),
        ("What is an ETF?", "I don't understand ETFs."),
        # "what's the trick / secret to X-ing" asks how to X; "what's the deal with" asks why.
        ("How do I make fluffy pancakes?", "what's the secret to making fluffy pancakes?"),
        ("Why is my fridge making a clicking noise?", "what's the deal with my fridge making a clicking noise"),
        # "Do you offer X?" and "Is X available?" ask "Do you X?".
        ("Do you pick up from the airport?", "Do you offer airport pickup?"),
        ("Do you offer personal training?", "Is personal training available?"),
        # "What documents are required to X?" asks what one needs to X.
        ("What do I need to change my name?", "What documents are needed to change my name?"),
        # "the rules of X" are "the X rules"; "worth it or nah" asks "worth it?".
        ("What is the tiebreak rule in tennis?", "What are the rules of a tiebreak in tennis?"),
        ("Is a robot vacuum worth buying?", "robot vacuum worth it or a waste of money"),
        # Slang verbs and set phrases.
        ("How do I terminate a hung app on Android?", "how do i kill a hung app on android"),
        ("Is it rude to negotiate at a garage sale?", "is it rude to haggle at a garage sale"),
        ("How can I relax before surgery?", "how do i chill out before surgery"),
        # Working from home, an aching body part, a recovered password, the correct usage of a word.
        ("Can I work from home while I'm sick?", "can i wfh when im sick"),
        ("What causes neck pain after sleeping?", "why does my neck ache after sleeping"),
        ("Why do I get headaches when I read?", "why does my head hurt when i read"),
        ("How do I reset my Apple ID password?", "how do i recover my apple id password"),
        ("How do I use a colon correctly?", "what's the proper use of a colon"),
        # A distinction is a difference; Saturdays and Sundays are the weekends; "advisable", "prudent": "should I".
        (
            "What is the difference between a virus and a bacterium?",
            "Is there a distinction between a virus and a bacterium?",
        ),
        ("Do the buses run on weekends?", "do buses run on saturday and sunday"),
        ("Is it a good idea to pay off my mortgage early?", "Is it advisable to pay off my mortgage early?"),
        ("Should I buy an electric car?", "Would buying an electric car be considered prudent?"),
    ],
)
async def test_common_shapes_are_accepted(guard: Guard, cached: str, asked: str) -> None:
    assert (await guard.judge(asked, cached)).same


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        ("What is the difference between TCP and UDP?", "I always get TCP and IP mixed up."),
        ("What can I use instead of brown sugar?", "I ran out of white sugar, what can I use instead?"),
        ("How do I exchange running shoes for a smaller size?", "the running shoes i ordered are too small"),
        ("How do I exchange a helmet for a bigger size?", "the helmet we bought is too heavy"),
        ("I don't understand photosynthesis.", "photosynthesis finally makes sense to me"),
        ("How do I do a pull-up?", "what's the trick to doing a push-up"),
        ("Do you deliver on Sundays?", "Do you offer Sunday collection?"),
        ("Do you offer personal training?", "Is personal training free?"),
        ("What do I need to register a car?", "what paperwork do i need to sell a car"),
        ("Is a VPN worth it?", "vpn legal or nah"),
        ("How do I terminate a hung app on Android?", "how do i kill a hung app on iphone"),
        ("Can I work from home while I'm sick?", "can i work overtime when im sick"),
        ("How do I recover my Gmail account?", "How do I delete my Gmail account?"),
        ("How do I reset my Apple ID password?", "how do i recover my apple id email"),
        ("Should I buy an electric car?", "Would leasing an electric car be considered prudent?"),
        # Days of the week are names in lower case too, plural or not: Fridays are not the weekend.
        ("Do the buses run on weekends?", "do buses run on fridays and saturdays"),
        ("Are you open on weekends?", "Are you open on weekdays?"),
        # "even" before a number is its parity, not a filler.
        ("Is zero an even number?", "is zero a number lol"),
    ],
)
async def test_their_near_misses_are_refused(guard: Guard, cached: str, asked: str) -> None:
    assert not (await guard.judge(asked, cached)).same
    assert not (await guard.judge(cached, asked)).same


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("I mix up affect and effect.", ["what", "is", "the", "difference", "between", "affect", "and", "effect"]),
        ("no tripod, what can i use instead?", ["what", "can", "i", "substitute", "for", "tripod"]),
        ("The cap I got is too small.", ["how", "do", "i", "exchange", "the", "cap", "for", "a", "bigger", "size"]),
        ("The ring I bought is too shiny.", ["the", "ring", "i", "bought", "is", "too", "shiny"]),
        ("Do you offer gift wrapping?", ["do", "you", "gift", "wrapping"]),
        ("Is parking available?", ["do", "you", "parking"]),
        ("Is the manager available?", ["is", "the", "manager", "available"]),  # a person, not a service
        ("What documents do I need for a visa?", ["what", "documents", "do", "i", "need", "for", "a", "visa"]),
        ("What are the rules of thumb?", ["what", "are", "the", "rules", "of", "thumb"]),
        ("How do I kill weeds?", ["how", "do", "i", "kill", "weeds"]),  # only a process, a program, an app ...
        ("how do i kill a process", ["how", "do", "i", "terminate", "a", "process"]),
    ],
)
def test_casual_wordings_are_put_in_one_form(text: str, words: list[str]) -> None:
    assert list(parse(text).words) == words
