"""Chat asides that wrap an ordinary question without changing what it asks.

"X?? asking for a friend", "kinda stuck on how to X", "my X keeps crashing wtf": the aside is a feeling or a joke,
the question is the same as the plain one. Each rule: (hint, pattern, replacement); the hint, in lower case, is in
every text the pattern matches, so a question holding none of them costs one substring test a rule (outside ASCII
every rule runs).
"""

from __future__ import annotations

import re

from ._hinted import Rule, rewrite

__all__ = ["chatter"]

_RULES: tuple[Rule, ...] = (
    # "... asking for a friend" is a joke about who asks, not part of the question.
    ("friend", re.compile(r"[\s.,!?-]*\b(?:just |i'?m |im )?asking for a friend\b[\s.!?]*$", re.IGNORECASE), "?"),
    # "wtf is X" asks "what is X"; elsewhere "wtf" is an exclamation ("my code keeps crashing wtf").
    ("wtf", re.compile(r"\bwtf(?= (?:is|are|was|were|does|do|did|happened)\b)", re.IGNORECASE), "what"),
    ("wtf", re.compile(r"\bwtf\b[\s?!.]*", re.IGNORECASE), " "),
    # "(kinda) stuck on how to X", "confused about how to X" ask how to X.
    (
        "how to",
        re.compile(
            r"\b(?:(?:i'?m|im|i am) )?(?:kinda |kind of |sort of |a bit |really |so |totally )?"
            r"(?:stuck|confused|lost) (?:on|about|with) how to\b",
            re.IGNORECASE,
        ),
        "how to",
    ),
)


def chatter(text: str) -> str:
    """``text`` without the chat asides above."""
    return rewrite(text, _RULES)
