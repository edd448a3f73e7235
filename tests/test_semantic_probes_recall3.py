"""Paraphrases of the weakest kinds as users type them, and near-misses of the same shapes (round 3 of recall probes).

The pairs are in ``tests/data/semantic_probes_recall3.jsonl``, written in one go (13 domains) and committed before
any was scored, none from the labelled sets: register (casual, texting and emotional wordings: "ugh my X won't Y",
"X wtf", "kinda stuck on how to X", "quick q: X?", "help!! X", "X?? asking for a friend", "is it just me or X"),
combined (keyword queries that abbreviate and drop words, a casual rewording plus a synonym), everyday synonyms
(get rid of / remove, fix / repair, pick / choose, begin / start, buy / purchase, car / vehicle, kid / child,
cheap / inexpensive, set up / configure, turn / switch on, look / search for) and implicature (a statement of a
problem that asks for its fix: "My sink is blocked." / "How do I unblock my sink?"), with near-misses that change
an entity, a number, a negation, a direction or the problem in the same frame. They are judged as the proxy judges
them (``b`` asked, ``a`` cached), with the measured model (word vectors and weighing on); every near-miss must be
refused both ways.
"""

from __future__ import annotations

import pytest

from layercache_asgi.semantic._guard import Guard
from layercache_asgi.semantic._question import parse

from ._probes import accepted_share, load_probes, passing_near_misses

PROBES, NEAR_MISSES, PARAPHRASES = load_probes("semantic_probes_recall3")
# Paraphrases accepted (guard alone): 155 of 171 (0.91). Each batch was committed before it was scored: the first
# 117 -> 138 of 151 with the rules it found (register 29 -> 40 of 40, combined 18 -> 25 of 30, synonym 41 -> 42 of
# 46, implicature 29 -> 31 of 35); the second, written after those rules to see whether they carry, 17 of 20 (6
# without them), its 12 near-misses all refused.
RECALL_FLOOR = 0.90


# The guard with the measured cuts and the word table loaded: `guard` and `lexicon` in tests/conftest.py.
pytestmark = pytest.mark.usefixtures("lexicon")


def test_the_probe_set_covers_the_weakest_kinds_in_many_domains() -> None:
    kinds = {kind for kind, *_ in PARAPHRASES}
    assert {"register", "combined", "synonym", "implicature"} <= kinds
    assert len(PARAPHRASES) >= 150
    assert len(NEAR_MISSES) >= 60
    assert len({p["domain"] for p in PROBES}) >= 8


async def test_near_misses_are_refused(guard: Guard) -> None:
    assert await passing_near_misses(guard, NEAR_MISSES) == []


async def test_a_short_form_half_paired_by_word_vectors_is_refused(guard: Guard) -> None:
    # "wifi" is read as "wireless network"; word vectors put "bluetooth" close to "wireless", and "network" left over
    # passed as framing (this probe's near-miss leaked until the guard checked its short forms' words as one).
    cached, asked = "Why won't my laptop connect to wifi?", "ugh my laptop won't connect to bluetooth"
    assert (await guard.judge(asked, cached)).reason == "content words differ"
    assert (await guard.judge(cached, asked)).reason == "content words differ"
    # The long form in part, or whole, is still the short form.
    assert (await guard.judge("How do I connect to the wireless?", "How do I connect to wifi?")).same
    assert (await guard.judge("How do I connect to the wireless network?", "How do I connect to wifi?")).same


async def test_most_paraphrases_are_accepted(guard: Guard) -> None:
    assert await accepted_share(guard, PARAPHRASES) >= RECALL_FLOOR


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        # Chat asides frame a question: "asking for a friend", "wtf", "(kinda) stuck on how to".
        ("Can I freeze cooked rice?", "can i freeze cooked rice?? asking for a friend"),
        ("Why does my toilet keep running?", "my toilet keeps running wtf"),
        ("What is a monad?", "wtf is a monad"),
        ("How do I undo the last git commit?", "kinda stuck on how to undo the last git commit"),
        ("How do I center a div?", "I'm confused about how to center a div"),
        # "set up" is "configure"; "my vehicle" is my car; "win 11" is Windows 11; "how much 2" is "how much to".
        ("How do I set up a VPN on my router?", "How do I configure a VPN on my router?"),
        ("How often should I change the oil in my car?", "how often 2 change oil in my vehicle"),
        ("How do I turn on dark mode in Windows 11?", "switch on dark mode win 11"),
        ("How much should I feed my puppy?", "how much 2 feed my puppy"),
        ("How do I put up with a noisy neighbor?", "How do I tolerate a noisy neighbor?"),  # not "tolerated"
        # A bare report of a blocked or locked thing asks how to undo it; "locked myself out" is locked out.
        ("How do I unblock my sink?", "My sink is blocked."),
        ("How do I unlock my account?", "My account is locked."),
        ("How do I unblock my kitchen sink?", "my kitchen sink keeps getting clogged"),
        ("What do I do if I'm locked out of my car?", "I locked myself out of my car."),
        # "What should I get X for Christmas?" asks for Christmas gift ideas for X.
        ("What should I get a 10-year-old boy for his birthday?", "bday gift ideas 10yo boy"),
        ("What should I get my dad for Christmas?", "christmas gift ideas for dad"),
    ],
)
async def test_common_shapes_are_accepted(guard: Guard, cached: str, asked: str) -> None:
    assert (await guard.judge(asked, cached)).same


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        ("Can I freeze cooked rice?", "can i freeze cooked pasta?? asking for a friend"),
        ("Why does my toilet keep running?", "my toilet keeps clogging wtf"),
        ("How do I center a div?", "kinda stuck on how to center an image"),
        ("How do I set up a printer?", "How do I set off a printer?"),
        ("How do I register my vehicle?", "How do I register my truck?"),
        ("How do I reset Windows 11?", "how do i reset win 10"),
        ("How much should I feed my puppy?", "how much 2 feed my kitten"),
        ("How do I unblock my toilet?", "My sink is blocked."),
        ("How do I lock my account?", "My account is locked."),
        ("I locked my keys in my car.", "I locked myself out of my car."),
        ("What should I get a 10-year-old boy for his birthday?", "bday gift ideas 10yo girl"),
        ("What should I get my dad for Christmas?", "birthday gift ideas for dad"),
        ("What should I get my dad for Christmas?", "christmas gift ideas for mom"),
        # A word after "of" is a noun: two nouns WordNet keeps apart are not paired by their vectors.
        ("How do I get rid of fleas on my cat?", "How do I get rid of ticks on my cat?"),
        # Reading and writing are two skills.
        ("When should kids start learning to read?", "When should children start learning to write?"),
        ("How do I read a CSV file in Python?", "How do I write a CSV file in Python?"),
    ],
)
async def test_their_near_misses_are_refused(guard: Guard, cached: str, asked: str) -> None:
    assert not (await guard.judge(asked, cached)).same
    assert not (await guard.judge(cached, asked)).same


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("can i nap?? asking for a friend", ["can", "i", "nap"]),
        ("my code keeps crashing wtf", ["my", "code", "keeps", "crashing"]),
        ("wtf is a monad", ["what", "is", "a", "monad"]),
        ("kinda stuck on how to exit vim", ["how", "to", "exit", "vim"]),
        ("how do i set up a printer", ["how", "do", "i", "configure", "a", "printer"]),
        ("how much 2 liters", ["how", "much", "2l"]),  # a count stays one
        ("insure my vehicle", ["insure", "my", "car"]),
        ("insure the vehicle", ["insure", "the", "vehicle"]),  # any vehicle: stays
        ("My sink is blocked.", ["how", "do", "i", "unblock", "my", "sink"]),
        ("the sink is blocked but why", ["the", "sink", "is", "blocked", "but", "why"]),  # not a bare report
        ("my sink is clogged", ["how", "do", "i", "unblock", "my", "sink"]),
        ("a clogged drain", ["a", "blocked", "drain"]),
    ],
)
def test_chat_and_everyday_wordings_are_put_in_one_form(text: str, words: list[str]) -> None:
    assert list(parse(text).words) == words


def test_i_m_typed_with_its_capital_is_no_name() -> None:
    assert "im" not in parse("What do I do if I'm locked out?").names
