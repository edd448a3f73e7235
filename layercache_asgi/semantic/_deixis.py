"""Time said from now: "this year's sales" and "last year's sales" are two answers.

The guard reads "last" or "next" as one more content word, which only the weighing can refuse,
and the sentence model puts "this / last year's sales" at 0.96. When both questions place the
same unit of time (year, month, week...) from now, the places must agree; a question that names
no such time is left to the other checks ("this month" may well be "now").
"""

from __future__ import annotations

from ._question import Question, words_of

__all__ = ["moved_in_time", "time_differs"]

_FROM_NOW = {
    **{w: "now" for w in words_of("this current")},
    **{w: "before" for w in words_of("last previous past prior")},
    **{w: "after" for w in words_of("next coming upcoming following")},
}
_UNITS = words_of(
    "year years month months week weeks weekend weekends day days night nights quarter quarters season seasons "
    "semester term summer winter spring autumn fall morning evening afternoon decade century"
)


def time_differs(a: Question, b: Question) -> bool:
    """Both questions place one unit of time from now, in different places: "this year" / "last year"."""
    x, y = _placed(a.words), _placed(b.words)
    return any(x[unit] != y[unit] for unit in x.keys() & y.keys())


def _placed(words: tuple[str, ...]) -> dict[str, frozenset[str]]:
    placed: dict[str, set[str]] = {}
    for at in range(len(words) - 1):
        where = _FROM_NOW.get(words[at])
        if where is not None and words[at + 1] in _UNITS:
            placed.setdefault(words[at + 1].rstrip("s"), set()).add(where)  # "years" is "year"
    return {unit: frozenset(places) for unit, places in placed.items()}


def moved_in_time(question: Question, at: list[int]) -> bool:
    """A word at one of the positions moves the unit of time after it away from now ("*last* year",
    "the *next* quarter"): never framing, whatever the sentence model says ("last time" may be)."""
    words = question.words
    return any(_FROM_NOW.get(words[i], "now") != "now" and words[i + 1 : i + 2] in _UNIT_AFTER for i in at)


_UNIT_AFTER = {(unit,) for unit in _UNITS}
