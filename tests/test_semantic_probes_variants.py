"""The same question in British and American English, and near-misses in the same frames.

The pairs are in ``tests/data/semantic_probes_variants.jsonl``, written in one batch (14 domains: cars, travel, food,
health, money, housing, school, work, shopping, tech, post, home, leisure, law) and committed before any was scored:
vocabulary (petrol / gasoline, lorry / truck, tap / faucet, flat / apartment, GP / family doctor, A&E / emergency
room, zip code / postcode, CV / resume, trainers / sneakers, mobile / cell phone...), spelling (colour, organise,
centre, travelled, licence, paediatric, grey, tyre, cheque, programme, aluminium, mould, plough, sceptical,
catalogue, practise, storey, kerb, pyjamas) and both with other rewording; near-misses change the thing (petrol /
diesel, flat / house, lorry / van), a number, a place or a negation next to a variant, or use a word that means
something else on the other side (a British biscuit, a chemist, a vest, American football). They are judged as the
proxy judges them (``b`` asked, ``a`` cached), with the measured model; every near-miss must be refused both ways.
"""

from __future__ import annotations

import pytest

from layercache_asgi.semantic._guard import Guard
from layercache_asgi.semantic._lexicon import load_lexicon
from layercache_asgi.semantic._question import parse
from layercache_asgi.semantic._spelling import american

from ._probes import accepted_share, load_probes, passing_near_misses

PROBES, NEAR_MISSES, PARAPHRASES = load_probes("semantic_probes_variants")
# Paraphrases accepted (guard alone), each batch committed before it was scored. The first (216 pairs): 91 of 123
# before this round (spelling 53 of 53: WordNet lists most variants; vocabulary 31 of 56, combined 7 of 14), 120 of
# 123 with the rules it found (the three left differ by more than a variant: "dripping tap" / "leaky faucet",
# "include in" / "put on", "personalise" / "customize"); near-misses passing 4 of 93 before (biscuit / cookie,
# chemist / pharmacist, vest / waistcoat, living room / bedroom), none after. The second (46 pairs), written after
# those rules to see whether they carry: 24 of 27 (11 without them), its 19 near-misses all refused (2 passed
# without them: biscuit / cookie, pants / trousers). After both, "flu jab" / "flu shot" was added, and gas / petrol,
# chips / fries and purse / handbag unlinked (each means another thing on the other side: a gas leak at home; the
# words of driving, "a gallon of gas", "save gas", stay petrol): 144 of 150 in all (102 before this round), 0 of 112
# near-misses (6 before).
RECALL_FLOOR = 0.95


# The guard with the measured cuts and the word table loaded: `guard` and `lexicon` in tests/conftest.py.
pytestmark = pytest.mark.usefixtures("lexicon")


def test_the_probe_set_covers_both_kinds_of_variant_in_many_domains() -> None:
    assert {"vocabulary", "spelling", "combined"} <= {kind for kind, *_ in PARAPHRASES}
    assert len(PROBES) >= 250
    assert len(NEAR_MISSES) * 2 >= len(PARAPHRASES) * 0.9
    assert len({p["domain"] for p in PROBES}) >= 10


async def test_near_misses_are_refused(guard: Guard) -> None:
    assert await passing_near_misses(guard, NEAR_MISSES) == []


async def test_most_paraphrases_are_accepted(guard: Guard) -> None:
    assert await accepted_share(guard, PARAPHRASES) >= RECALL_FLOOR


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        # Single words the word table now reads as one thing.
        ("How much does it cost to hire a lorry?", "How much does it cost to hire a truck?"),
        ("Why is my bathroom tap leaking?", "Why is my bathroom faucet leaking?"),
        ("Do I need a solicitor to sell my house?", "Do I need a lawyer to sell my house?"),
        ("How do I stop my puppy biting the lead?", "How do I stop my puppy biting the leash?"),
        # Phrases put into one form: a zip code is a postcode, the ER and A&E the emergency room, a GP a family doctor.
        ("What is the zip code of the White House?", "What is the postcode of the White House?"),
        ("How long is the wait at A&E?", "How long is the wait at the ER?"),
        ("Can my GP prescribe antibiotics?", "Can my family doctor prescribe antibiotics?"),
        ("Can I bring a power bank in my carry-on?", "Can I bring a power bank in my hand luggage?"),
        ("How do I pay in a cheque at a cash machine?", "How do I deposit a check at a cash machine?"),
        ("How much does it cost to post a letter to Canada?", "How much does it cost to mail a letter to Canada?"),
        # Spellings read as one form, inflected: "colours" / "colors", "organising" / "organizing".
        ("Why do my coloured clothes fade?", "Why do my colored clothes fade?"),
        ("Tips for organising a small kitchen", "tips for organizing a small kitchen"),
        ("Why are my tyres wearing unevenly?", "Why are my tires wearing unevenly?"),
        ("How many miles can I drive on a gallon of petrol?", "How many miles can I drive on a gallon of gas?"),
        ("Is it cheaper to rent a flat or a house?", "Is it cheaper to rent an apartment or a house?"),
    ],
)
async def test_variants_are_accepted(guard: Guard, cached: str, asked: str) -> None:
    assert (await guard.judge(asked, cached)).same


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        # A word that means something else on the other side stays apart.
        ("How do I make soft biscuits?", "How do I make soft cookies?"),
        ("What qualifications does a chemist need?", "What qualifications does a pharmacist need?"),
        ("Should I wear a vest under my shirt?", "Should I wear a waistcoat under my shirt?"),
        ("How do I shorten my pants?", "How do I shorten my trousers?"),
        ("How do I detect a gas leak at home?", "How do I detect a petrol leak at home?"),  # gas may heat a house
        ("Which chips are the healthiest?", "Which fries are the healthiest?"),  # American chips are crisps
        ("Where can I buy a leather purse?", "Where can I buy a leather handbag?"),  # a British purse is a wallet
        # Two kinds of one thing, one named in two words: a living room is no bedroom.
        ("How do I decorate a small living room?", "How do I decorate a small bedroom?"),
        # A variant next to a changed thing, number or place.
        ("How much does it cost to hire a lorry?", "How much does it cost to hire a van?"),
        ("Why is my bathroom tap leaking?", "Why is my bathroom pipe leaking?"),
        ("What is the zip code of the White House?", "What is the area code of the White House?"),
        ("How long is the wait at A&E?", "How long is the wait at urgent care?"),
        ("Why are my tyres wearing unevenly?", "Why are my brakes wearing unevenly?"),
        ("What is a queue in Python?", "What is a line in Python?"),
    ],
)
async def test_their_near_misses_are_refused(guard: Guard, cached: str, asked: str) -> None:
    assert not (await guard.judge(asked, cached)).same
    assert not (await guard.judge(cached, asked)).same


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("find my zip code", ["find", "my", "postcode"]),
        ("go to A&E now", ["go", "to", "emergency", "room", "now"]),
        ("the ER is busy", ["the", "emergency", "room", "is", "busy"]),
        ("er, what is it", ["er", "what", "is", "it"]),  # a hesitation, not the ER
        ("what is the bin folder", ["what", "is", "the", "bin", "folder"]),
        ("empty the trash can", ["empty", "the", "bin"]),
        ("post a parcel", ["mail", "a", "parcel"]),
        ("post a photo on instagram", ["post", "a", "photo", "on", "instagram"]),  # a post online stays
        ("a mobile app", ["a", "mobile", "application"]),  # not a phone
        ("minced beef", ["ground", "beef"]),
        ("rent a flat in York", ["rent", "a", "apartment", "in", "york"]),
        ("fix a flat tyre", ["fix", "a", "flat", "tyre"]),  # flat before a noun: no home
        ("a flu jab", ["a", "influenza", "shot"]),
        ("ask my GP", ["ask", "my", "family", "doctor"]),
        ("update the GPS", ["update", "the", "gps"]),  # satellite navigation, no doctor
        ("my gps lost signal", ["my", "gps", "lost", "signal"]),
    ],
)
def test_regional_phrases_are_put_in_one_form(text: str, words: list[str]) -> None:
    assert list(parse(text).words) == words


@pytest.mark.parametrize(
    ("word", "us"),
    [
        ("colours", "colors"),
        ("organisation", "organization"),
        ("analysing", "analyzing"),
        ("centred", "centered"),
        ("manoeuvring", "maneuvering"),
        ("licence", "license"),
        ("counsellor", "counselor"),
        ("catalogue", "catalog"),
        ("programmes", "programs"),
        ("greyish", "grayish"),
        ("tour", None),  # a word of its own, not "tor"
        ("filled", None),  # not "filed"
        ("canoes", None),  # not "canes"
        ("acre", None),  # not "acer"
        ("hour", None),
    ],
)
def test_british_spellings_are_respelt_only_into_the_same_word(word: str, us: str | None) -> None:
    assert american(word, load_lexicon()) == us


def test_the_word_table_links_and_unlinks_regional_words() -> None:
    lexicon = load_lexicon()
    assert lexicon.synonyms("lorry", "truck") and lexicon.synonyms("tap", "faucet")
    assert not lexicon.synonyms("biscuit", "cookie") and lexicon.same_kind("biscuit", "cookie")
    assert not lexicon.synonyms("pants", "trousers") and lexicon.same_kind("pants", "trousers")
