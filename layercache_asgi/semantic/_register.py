"""How people type a question, put back into plain words before the guard compares it.

General chat and informal register, not any one domain's: courtesies that wrap a question
("sorry to bother you", "thanks in advance"), shorthand that would read as a number or a
negation ("how 2", "b4"), informal spellings with a standard form ("gotta", "gimme",
"tmrw", "footy"), and the time words that make a present-tense question ask about the future
("Is rain forecast for tomorrow?" asks what "Will it rain tomorrow?" asks).
"""

from __future__ import annotations

import re

__all__ = ["FUTURE_TIME", "INFORMAL", "plain"]

# Courtesies that wrap a question without changing it. "on earth" only as an intensifier after a
# question word: "the largest desert on Earth" keeps its Earth.
_POLITE = re.compile(
    r"\b(?:sorry to (?:trouble|bother) you|thanks?(?: you)?(?: (?:a lot|so much|very much|in advance))?|"
    r"many thanks|would you happen to know|i(?:'d| would) be (?:grateful|thankful) if you could|"
    r"i was wondering|quick question|hope you(?:'re| are) (?:well|doing well)|if you don'?t mind|"
    r"when you (?:get|have) a (?:chance|moment)|any help (?:would be|is) appreciated|"
    r"would you mind(?: (?:telling|showing|explaining to|letting) me)?|(?:excuse|pardon) me|"
    r"(?:may|can|could|might) i ask(?: you)?|(?:do|does) (?:you|anyone|anybody|someone|somebody) know|"
    r"i(?:'d| would)? (?:really )?(?:like|love|want|need) to (?:know|ask|find out)|"
    r"i(?:'d| would)? (?:really |greatly )?appreciate (?:it )?if you could|"
    r"good (?:morning|afternoon|evening|day)|the (?:heck|hell|fuck)|if (?:at all )?possible)\b",
    re.IGNORECASE,
)
_INTENSIFIER = re.compile(r"\b(what|where|why|how|who|which) on earth\b", re.IGNORECASE)
# Chat shorthand that would read as a number or a negation: "how 2 ...", "how long 2 wait", "b4", "no. of".
_SHORTHAND = (
    (
        re.compile(r"\b(how|long|want|need|going|have|got|way|ways|where|what|try|trying|able|hard|easy) 2\b", re.I),
        r"\1 to",
    ),
    (re.compile(r"\bb4\b", re.IGNORECASE), "before"),
    (re.compile(r"\bno\.\s*of\b", re.IGNORECASE), "number of"),
    (re.compile(r"\bwknds?\b", re.IGNORECASE), "weekends"),
    (re.compile(r"\b4 (me|you|u|my|your)\b", re.IGNORECASE), r"for \1"),
    (re.compile(r"\b2(?:moro|morrow|mrw)\b", re.IGNORECASE), "tomorrow"),
    (re.compile(r"\b2day\b", re.IGNORECASE), "today"),
    (re.compile(r"\b2nite\b", re.IGNORECASE), "tonight"),
)

# Informal and chat spellings -> their standard words (lower case, one token each).
INFORMAL = {
    "gotta": "have to",
    "hafta": "have to",
    "gimme": "give me",
    "lemme": "let me",
    "kinda": "kind of",
    "sorta": "sort of",
    "dunno": "do not know",
    "tho": "though",
    "thru": "through",
    "ya": "you",
    "yall": "you",
    "wot": "what",
    "wut": "what",
    "bout": "about",
    "coz": "because",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tmw": "tomorrow",
    "tonite": "tonight",
    "nite": "night",
    "rn": "right now",
    "asap": "as soon as possible",
    "idk": "i do not know",
    "tbh": "honestly",
    "imo": "in my opinion",
    "fyi": "for your information",
    "aka": "also known as",
    "smth": "something",
    "sth": "something",
    "ty": "thank you",
    "wk": "week",
    "wks": "weeks",
    "footy": "football",
    "telly": "television",
    "brekkie": "breakfast",
    "vacay": "vacation",
    "hols": "holidays",
    "comfy": "comfortable",
    "bike": "bicycle",
    "cig": "cigarette",
    "ciggie": "cigarette",
}

# Words that put a question in the future whatever its verb's tense.
FUTURE_TIME = frozenset(["tomorrow", "tonight", "upcoming", "forecast", "forecasts", "forecasted", "predicted"])


def plain(text: str) -> str:
    """``text`` without courtesies, its chat shorthand spelt out."""
    text = _INTENSIFIER.sub(r"\1", _POLITE.sub(" ", text))
    for pattern, replacement in _SHORTHAND:
        text = pattern.sub(replacement, text)
    return text
