"""Verbs that say "not" without a "not": "fails to pay" is "doesn't pay", put in those words.

"What if my insurer fails to pay my claim?" asks what "... doesn't pay my claim?" asks, and the
opposite of "... pays my claim?"; read as written, "fails" is one more content word that only the
weighing can refuse, by a margin the sentence model (0.91 apart) does not always give. Spelt as a
negation, the guard's negation check settles both ways. The same for forgetting or refusing to do
something, and for a thing that stops doing ("my microphone stopped working" / "... doesn't work").
A person stopping ("How do I stop paying for it?") does it on purpose: that stays a phase verb.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ._hinted import Rule, rewrite

__all__ = ["negating"]

# Who stops on purpose: a person, or a "to" / modal before a bare "stop" ("how to stop", "should I stop").
_PERSON = (
    r"i|you|we|they|he|she|people|someone|somebody|everyone|u|ya|me|us|them|him|her|to|can|could|should|"
    r"would|will|must|might|may|do|does|did|how|not|never|please|lets|let's|"
    r"\w+n't|cannot"
)
_NEGATION = re.compile(
    r"\b(?:not|never|no|cannot|\w+n't|(?:do|does|did|ca|wo|would|could|should|is|are|was|were|has|have|had)nt)\b",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[.?!,;:]")
_CLAUSE_WINDOW = 60  # characters looked back for a negation: about ten words


def _unless_negated(replacement: str) -> Callable[[re.Match[str]], str]:
    """``replacement``, or the match as typed after a negation in its clause: "won't stop crying" keeps
    crying, "doesn't fail to impress" impresses (no double negation to read)."""

    def replace(match: re.Match[str]) -> str:
        # The clause's last words only (its own too): a client's 2,000 characters of "fails to" must not be
        # rescanned from the start at every match.
        window = match.string[max(0, match.start() - _CLAUSE_WINDOW) : match.end()]
        clause = _CLAUSE_END.split(window)[-1]
        return match.group() if _NEGATION.search(clause) else match.expand(replacement)

    return replace


def _verb(forms: str, base_not: str, third_not: str, past_not: str) -> list[Rule]:
    """ "fail to" -> "don't", "fails to" -> "doesn't", "failed to" -> "didn't", "failing to" -> "not": the
    words people type for it (the guard reads "won't" and "will not" in different tenses)."""
    base, third, past, ing = forms.split()
    hint = base[:4]
    return [
        (hint, re.compile(rf"\b{base} to\b", re.IGNORECASE), _unless_negated(base_not)),
        (hint, re.compile(rf"\b{third} to\b", re.IGNORECASE), _unless_negated(third_not)),
        (hint, re.compile(rf"\b{past} to\b", re.IGNORECASE), _unless_negated(past_not)),
        (hint, re.compile(rf"\b{ing} to\b", re.IGNORECASE), _unless_negated("not")),
    ]


# "my phone (has) stopped charging" -> "my phone not charging"; "the app keeps stopping" has no -ing after it.
_THING_STOPS = re.compile(
    rf"\b(?!(?:{_PERSON})\b)([a-z0-9'-]+) (?:(?:has|have|had|keeps?|kept) )?stop(?:s|ped)? (?=[a-z]+ing\b)",
    re.IGNORECASE,
)

_REWRITES: tuple[Rule, ...] = (
    *_verb("fail fails failed failing", "don't", "doesn't", "didn't"),
    *_verb("forget forgets forgot forgetting", "don't", "doesn't", "didn't"),
    *_verb("refuse refuses refused refusing", "won't", "won't", "wouldn't"),
    ("stop", _THING_STOPS, _unless_negated(r"\1 not ")),
)


def negating(text: str) -> str:
    """``text`` with the negating verbs above spelt as a negation."""
    return rewrite(text, _REWRITES)
