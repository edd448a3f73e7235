"""Casual wordings that ask what a plainer question asks, put in that question's form.

Statements that imply their question ("I always mix up X and Y." asks how they differ; "I have no X, what can I use
instead?" asks for a substitute; "The X I ordered is too small." asks to exchange it for a bigger size; "X makes no
sense to me" says "I don't understand X"), everyday frames ("what's the trick to X-ing" is "how to X", "Do you offer
X-ing?" is "Do you X?", "What documents are required to X?" is "What do I need to X?", "the rules of X" are "the X
rules", "worth it or nah", "Is it advisable to X?" is "Should I X?") and slang verbs WordNet does not link (haggle,
kill a process). Each rule: (hint, pattern, replacement); the hint, in lower case, is in every text the pattern
matches, so a question holding none of them costs one substring test a rule (outside ASCII every rule runs).
"""

from __future__ import annotations

import re

from ._hinted import Rule, rewrite

__all__ = ["casual"]

_END = r"\s*[.!?]*\s*$"
_OFTEN = r"(?:(?:always|often|sometimes|still|constantly|keep|kinda|kind of) )*"
_AGAIN = r"(?: all the time| always| constantly| every time)?"
_DIFFERENCE = r"what is the difference between \1 and \2?"
# A size that is too small asks for a bigger one, and the other way round.
_BIGGER = {"small": "bigger", "tight": "bigger", "big": "smaller", "large": "smaller", "loose": "smaller"}
_TERMINATE = {"kill": "terminate", "kills": "terminates", "killed": "terminated", "killing": "terminating"}
_HURT = {"ache": "hurt", "aches": "hurts", "aching": "hurting", "ached": "hurt"}
_NEGOTIATE = {"haggle": "negotiate", "haggles": "negotiates", "haggled": "negotiated", "haggling": "negotiating"}


def _exchange(match: re.Match[str]) -> str:
    return f"how do I exchange the {match[1]} for a {_BIGGER[match[2].lower()]} size?"


def _hurt(match: re.Match[str]) -> str:
    return _HURT[match[1].lower()]


def _terminate(match: re.Match[str]) -> str:
    return _TERMINATE[match[1].lower()]


def _negotiate(match: re.Match[str]) -> str:
    return _NEGOTIATE[match[1].lower()]


_TRICK = re.compile(
    r"\bwhat(?:'?s| is) the (?:trick|secret|key|knack) (?:to|for|of) (?=(?:\w+ )?\w+ing\b)", re.IGNORECASE
)
_DOCUMENTS_NEEDED = re.compile(
    r"\bwhat (?:documents?|docs|paperwork|papers|documentation) (?:do (i|you|we) need|(?:is|are) (?:needed|required|"
    r"necessary))(?= to\b)",
    re.IGNORECASE,
)
_RULES: tuple[Rule, ...] = (
    # "an even number" is a number's parity ("even" alone is a filler: "how do I even X", a stop word).
    ("even", re.compile(r"\beven(?= (?:numbers?|integers?|numbered|split|surface)\b)", re.IGNORECASE), "evenly"),
    # "When should I use X versus Y?" and "I always mix up X and Y" (confuse them, get them mixed up) ask how X
    # and Y differ: the answer is the difference either way.
    (
        "use",
        re.compile(
            r"\bwhen (?:should|do|would|can) (?:i|you|we|one) use (.+?) (?:versus|vs\.?|or) (.+?)\s*(?=[?.!]|$)",
            re.IGNORECASE,
        ),
        _DIFFERENCE,
    ),
    *(
        (
            hint,
            re.compile(rf"^\s*i(?:'m| am)? {_OFTEN}(?:{verb}) (.+?) (?:and|with) (.+?){_AGAIN}{_END}", re.I),
            _DIFFERENCE,
        )
        for hint, verb in (("mix", "mix up|mixing up"), ("confus", "confuse|confusing"))
    ),
    (
        "mixed",
        re.compile(rf"^\s*i {_OFTEN}get(?:ting)? (.+?) (?:and|with) (.+?) mixed up{_AGAIN}{_END}", re.I),
        _DIFFERENCE,
    ),
    # "I have no X, what can I use instead?" (ran out of, don't have, "no X,") asks what to use instead of X.
    (
        "instead",
        re.compile(
            r"^\s*(?:i (?:have no|have run out of|ran out of|don'?t have(?: any)?|do not have(?: any)?|am out of)|"
            r"i'?m out of|out of|no) (.+?)[,.;!]?\s*(?:so )?what (?:can|could|should|do) i use instead" + _END,
            re.IGNORECASE,
        ),
        r"what can I use instead of \1?",
    ),
    # "The shoes I ordered are too small." asks to exchange them for a bigger size (the whole text only).
    (
        "too ",
        re.compile(
            r"^\s*(?:the|my|these|this) ((?:\w+ ){0,2}?\w+) (?:i|we) (?:ordered|bought|got|received)(?: online)? "
            r"(?:is|are|was|were) (?:way |much |a bit |slightly )?too (small|tight|big|large|loose)" + _END,
            re.IGNORECASE,
        ),
        _exchange,
    ),
    # "X makes no sense to me" says "I don't understand X" (the whole text; "help", "lol" after it are asides).
    (
        "sense",
        re.compile(
            r"^\s*(.+?) (?:makes?|made) (?:zero|no|absolutely no|literally no) sense(?: (?:to|for) me)?"
            r"[\s,.!?]*(?:(?:pls |please |plz )?help[\s.!?]*)?(?:lol[\s.!?]*)?$",
            re.IGNORECASE,
        ),
        r"I don't understand \1.",
    ),
    # "I don't understand X." (a whole statement) asks to have X explained.
    (
        "understand",
        re.compile(
            r"^\s*i (?:don'?t|do not|can'?t|cannot|just don'?t) (?:really |quite |fully )?understand (.+?)" + _END,
            re.IGNORECASE,
        ),
        r"explain \1",
    ),
    # "what's the trick / secret / key to peeling garlic" asks how to peel it.
    *((hint, _TRICK, "how to ") for hint in ("trick", "secret", "key", "knack")),
    # "what's the deal with X" asks why, as "what's up with X" does.
    ("deal", re.compile(r"\bwhat(?:'?s| is) the deal with\b", re.IGNORECASE), "why"),
    # "Do you offer gift wrapping?" asks "Do you gift wrap?": "offer" / "provide" frame the service.
    ("offer", re.compile(r"\b(do|does) (you|u|they|ya) (?:offer|provide) (?=\w)", re.IGNORECASE), r"\1 \2 "),
    ("provide", re.compile(r"\b(do|does) (you|u|they|ya) (?:offer|provide) (?=\w)", re.IGNORECASE), r"\1 \2 "),
    # ... as "Is gift wrapping available?" does (a service named without a determiner, the whole text).
    (
        "available",
        re.compile(
            r"^\s*(?:is|are) (?!(?:the|a|an|my|your|this|that|it|there)\b)((?:\w+ ){0,2}\w+) available" + _END, re.I
        ),
        r"do you \1?",
    ),
    # "What documents are required to X?" asks what one needs to X (papers, paperwork; not "for X": "the
    # documents I need for a mortgage" keeps them).
    *((hint, _DOCUMENTS_NEEDED, r"what do \1 need") for hint in ("doc", "paper")),
    # "the rules of chess" are "the chess rules" (not "rules of thumb").
    ("rules of", re.compile(r"\b(?:the )?rules of (?!(?:the|a|an|thumb)\b)(\w+)\b", re.IGNORECASE), r"the \1 rules"),
    # "worth it or nah", "worth it or a rip off?", "should I X or not?": the tail restates the yes / no.
    (
        "worth",
        re.compile(
            r"\bworth it,? or (?:is it )?(?:a |just a |a total )?(?:rip[- ]?off|waste of (?:money|time)|scam)\b",
            re.IGNORECASE,
        ),
        "worth it",
    ),
    (" or ", re.compile(r",? or (?:nah|not|no)" + _END, re.IGNORECASE), "?"),
    # "Is X worth buying?" asks whether X is worth it (at the end: "worth buying a dashcam" keeps its object).
    (
        "worth",
        re.compile(
            r"\bworth (?:buying|getting|purchasing|paying for|the money|the price)(?=\s*(?:[?.!]|$| or\b))", re.I
        ),
        "worth it",
    ),
    # A distinction between two things is their difference; Saturdays and Sundays are the weekends.
    ("distinction", re.compile(r"\bdistinction(s?) between\b", re.IGNORECASE), r"difference\1 between"),
    ("sat", re.compile(r"\bsaturdays? (?:and|&) sundays?\b", re.IGNORECASE), "weekends"),
    # "Is it advisable / wise to X?" and "Would X-ing be considered prudent?" ask "Should I X?".
    (
        "is it",
        re.compile(r"\bis it (?:really )?(?:advisable|wise|sensible|prudent|smart) to\b", re.IGNORECASE),
        "should I",
    ),
    (
        "would",
        re.compile(
            r"^\s*would (\w+ing\b.*?) be (?:considered )?(?:advisable|wise|sensible|prudent|smart|a good idea)" + _END,
            re.IGNORECASE,
        ),
        r"should I \1?",
    ),
    # Working from home, working remotely, remote work and "wfh" are one arrangement.
    ("wfh", re.compile(r"\bwfh\b", re.IGNORECASE), "remote work"),
    ("remote", re.compile(r"\bremote(?:ly)? work(?:ing|s)?\b", re.IGNORECASE), "remote work"),
    ("work", re.compile(r"\b(?:work|works|working|worked) (?:from home|remotely)\b", re.IGNORECASE), "remote work"),
    # "my shoulders ache" is "my shoulders hurt"; "my head hurts" is a headache.
    ("ach", re.compile(r"\b(ache|aches|aching|ached)\b", re.IGNORECASE), _hurt),
    ("head", re.compile(r"\b(do|does|did) my head hurt\b", re.IGNORECASE), r"\1 I get a headache"),
    ("head", re.compile(r"\bmy head (?:hurts|is hurting)\b", re.IGNORECASE), "I have a headache"),
    # A password is reset when it is recovered ("recover my account" stays: an account may be restored).
    (
        "recover",
        re.compile(r"\brecover(s|ed|ing)? ((?:\w+ ){0,3}?)(password|passcode|pin)\b", re.IGNORECASE),
        r"reset\1 \2\3",
    ),
    # "the correct usage of X" and "when do I use X?" ask how to use X correctly.
    (
        "us",  # "use" and "usage"
        re.compile(r"\b(?:what is )?the (?:correct|proper|right) (?:usage|use) of\b", re.IGNORECASE),
        "how to use",
    ),
    (
        "use",
        re.compile(r"\bwhen (?:do|does) (?:i|you|we|one)(?: even)? use ((?:\S+ ){0,2}\S+?)" + _END, re.IGNORECASE),
        r"how to use \1 correctly?",
    ),
    # Slang verbs: "haggle (over) the price" is "negotiate the price"; "kill a process" is "terminate" it.
    (
        "haggl",
        re.compile(r"\b(haggle|haggles|haggled|haggling)(?: (?:over|about|on|for))?\b", re.IGNORECASE),
        _negotiate,
    ),
    (
        "kill",
        re.compile(
            r"\b(kill|kills|killed|killing)\b(?= (?:(?:a|the|this|that|my|all|every|any) )?(?:\w+ )?"
            r"(?:process(?:es)?|programs?|apps?|tasks?|jobs?|containers?|sessions?)\b)",
            re.IGNORECASE,
        ),
        _terminate,
    ),
)


def casual(text: str) -> str:
    """``text`` with the casual wordings above in their plain form."""
    return rewrite(text, _RULES)
