"""Everyday wordings of a question put into one form before the guard compares it.

Common frames that ask the same ("What if X?" is "What happens if X?", "At what age do babies walk?" is "When do
babies walk?", "When should I X?" is "When is the best time to X?"), ages and short forms typed next to a number
("a one-year-old", "6 mo old", "3 yo"), "min" before a noun, and everyday synonyms WordNet does not link (clogged /
blocked, potty train / house-train, make / file a claim, fast / quick way, insert into / add to).

Each rule: (hint, pattern, replacement); the hint, in lower case, is in every text the pattern matches, so a
question holding none of them costs one substring test a rule (outside ASCII every rule runs).
"""

from __future__ import annotations

import re

from ._hinted import Rule, rewrite

__all__ = ["everyday"]

# What is usual or advised ("do babies", "should I"): of one person's life ("did Mozart", "is Messi") the age and
# the date are two answers, so not the past, and not when a name follows.
_USUALLY = r"(?:do|does|can|could|should|must|may|might)\b(?![^?.!]*(?-i:\b[A-Z][a-z]))"
_AGED = r"(?:year|month|week|day)"
_WAY = r"(?:ways?|methods?|routes?|fix|fixes|recipes?|solutions?|options?)\b"
_ON_EARTH = re.compile(
    r"(\b(?:\w{2,}est|most \w+)\b.*?) (?:on (?:the |our )?(?:earth|planet|globe)|in the (?:whole )?world)\b",
    re.IGNORECASE,
)
_OCCASION_HINTS = ("birthday", "bday", "christmas", "xmas", "anniversary", "graduation", "valentine", "s day")
_GIFT_FOR = re.compile(
    r"\bwhat (?:should|can|could|do) (?:i|we) (?:get|buy|give) (.+?) for (?:(?:his|her|their|my|our|a|the) )?"
    r"(birthday|bday|christmas|xmas|anniversary|graduation|valentine'?s(?: day)?|mother'?s day|father'?s day)\b",
    re.IGNORECASE,
)
_REWRITES: tuple[Rule, ...] = (
    # "What if I miss my flight?" asks what happens then.
    ("what if", re.compile(r"\bwhat if\b", re.IGNORECASE), "what happens if"),
    # "At what age do babies walk?" asks when (the answer is an age either way).
    (" age ", re.compile(rf"\b(?:at )?(?:what|which) age (?={_USUALLY})", re.IGNORECASE), "when "),
    # "When should I plant tulips?" asks for the best time to.
    ("when should", re.compile(r"\bwhen should (?:i|we|you|one)\b", re.IGNORECASE), "when is the best time to"),
    # Ages: "a one-year-old" is "a 1 year old" ("one" alone is no number: "one way to..."); "6 mo", "3 yo".
    ("one", re.compile(rf"\bone[- ]({_AGED})s?[- ]old\b", re.IGNORECASE), r"1 \1 old"),
    (" old", re.compile(r"\b(\d+) ?mos?\b(?= old\b)", re.IGNORECASE), r"\1 month"),
    ("yo", re.compile(r"\b(\d+) ?yo\b", re.IGNORECASE), r"\1 year old"),
    ("y/o", re.compile(r"\b(\d+) ?y/o\b", re.IGNORECASE), r"\1 year old"),
    # After a superlative "on the planet" and "in the world" say "on Earth": "the deepest lake in the world".
    *((hint, _ON_EARTH, r"\1 on Earth") for hint in ("earth", "planet", "globe", "world")),
    # "How far in advance should I book?" asks how early.
    ("how far", re.compile(r"\bhow far (?:in advance|ahead(?: of time)?|beforehand)\b", re.IGNORECASE), "how early"),
    # "any advice?" asks for tips, which frame a question ("any tips for...").
    ("advice", re.compile(r"\b(any|some) advice\b", re.IGNORECASE), r"\1 tips"),
    # British and American words for one thing: a flat battery is a dead one, a pay rise a raise; your boss is your
    # manager (after "my", "your", ...: not "boss" as a verb, nor "the boss of Apple", its chief).
    ("flat", re.compile(r"\bflat (?=(?:car |phone |laptop )?batter(?:y|ies)\b)", re.IGNORECASE), "dead "),
    ("pay", re.compile(r"\bpay[- ]?(?:rise|raise)\b", re.IGNORECASE), "raise"),
    ("boss", re.compile(r"\b(my|your|our|his|her|their) boss\b", re.IGNORECASE), r"\1 manager"),
    # "my vehicle" is the asker's car ("the vehicle" may be any); "win 11" is Windows 11 (a version follows).
    ("vehicle", re.compile(r"\b(my|your|our|his|her|their) vehicle(s?)\b", re.IGNORECASE), r"\1 car\2"),
    ("win", re.compile(r"\bwin ?(7|8|8\.1|10|11)\b", re.IGNORECASE), r"Windows \1"),
    # "I locked myself out of my car" is locked out of it: the reflexive names no one else.
    (
        "lock",
        re.compile(r"\b(lock(?:s|ed|ing)?) (?:myself|yourself|himself|herself|ourselves|themselves) out\b", re.I),
        r"\1 out",
    ),
    # "What should I get my dad for Christmas?" asks for "Christmas gift ideas for dad", as a keyword query types it.
    *((hint, _GIFT_FOR, r"\2 gift ideas for \1") for hint in _OCCASION_HINTS),
    # "min" before a word, and not after a number ("10 min walk"), is the minimum: "min temp", "min wage".
    (
        "min ",
        re.compile(r"(?<!\d)(?<!\d )\bmin\b(?= [a-z])(?! (?:to|of|in|and|or|from|for)\b)", re.IGNORECASE),
        "minimum",
    ),
    # A clogged drain is a blocked one; to unclog it is to unblock it.
    # Not "clogs", the shoes ("the drain clogs" stays as typed).
    # ("clogged" is "blocked", not "blockged": the doubled g goes).
    ("clog", re.compile(r"\b(un)?clog(?:g(ed|ing))?\b", re.IGNORECASE), r"\1block\2"),
    ("unclogs", re.compile(r"\bunclogs\b", re.IGNORECASE), "unblocks"),
    # A bare report "My sink is blocked." / "My account is locked." asks how to undo it (the whole text only).
    *(
        (
            state,
            re.compile(
                rf"^\s*(my|our|the) ((?:\w+ ){{0,2}}?\w+) (?:is|are|got|keeps getting|has been|have been) {state}"
                r"(?: up)?\s*[.!]*\s*$",
                re.IGNORECASE,
            ),
            rf"how do I un{state[:-2]} \1 \2?",
        )
        for state in ("blocked", "locked")
    ),
    # Potty training, toilet training and house-training a puppy or a toddler are one thing.
    ("train", re.compile(r"\b(?:potty|toilet|house)[- ]?train(s|ed|ing)?\b", re.IGNORECASE), r"housetrain\1"),
    # "make a claim" (insurance, warranty) is "file a claim".
    ("claim", re.compile(r"\bmake(s)? (an?|my|the|our) ((?:\w+ )?claim)\b", re.IGNORECASE), r"file\1 \2 \3"),
    ("claim", re.compile(r"\bmaking (an?|my|the|our) ((?:\w+ )?claim)\b", re.IGNORECASE), r"filing \1 \2"),
    # A fast way is a quick way ("quick" frames; a fast metabolism is no quick one, nor is fasting).
    ("fast", re.compile(rf"\bfast(est)? (?={_WAY})", re.IGNORECASE), r"quick\1 "),
    # "insert a column into a table" is "add a column to a table".
    ("insert", re.compile(r"\binsert(s|ed|ing)? ((?:\w+ ){1,3})into\b", re.IGNORECASE), r"add\1 \2to"),
)


def everyday(text: str) -> str:
    """``text`` with the everyday wordings above in their one form."""
    return rewrite(text, _REWRITES)
