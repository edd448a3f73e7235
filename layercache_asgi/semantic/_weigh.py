"""Content words left unpaired, weighed by the sentence model itself.

The guard pairs content words by rules and word vectors; what is left on one side or both
would refuse the pair. Word vectors of a small sentence model say little about single words
(cancel / stop score below cancel / renew), but the model is good at what it was trained
for, whole sentences. So the guard asks it how much the unpaired words weigh in their own
question:

- a substitution ("the *highest* mountain" / "the *tallest* mountain") is a paraphrase when
  swapping the words moves the question less than a share (``swap_ratio``) of what deleting
  them from both sides does, and the two questions stay close (``swap_cosine``): a synonym
  carries its word's meaning, another aspect (cost / weight) does not;
- words on one side only ("How early should I *arrive*..." / "... get to...", "what *now*")
  are framing when deleting them moves their question less than a share (``filler_share``)
  of what deleting every paired content word does, and the question also rewords the other:
  one that only adds words to the other ("paint a room *quickly*", "a *partial* refund")
  narrows it.

Light words on both sides (a keyword query's "time" for "how long") pass by the framing
share too. :func:`weigh` answers with how far the measure is from its cut (at most 1 passes),
so the guard can mark a refusal just past it as unsure for an optional verifier.

What this never decides: numbers, negation, names, opposites and order stay hard stops
before it; it refuses outright when an unpaired word is a quantifier ("one file" / "all
files"), and two unpaired words of one WordNet kind (tablespoon / teaspoon) need stricter
cuts (``KIN_STRICTNESS``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ._deixis import moved_in_time
from ._question import Question, words_of
from ._regional import apart

__all__ = ["QUANTIFIERS", "Weighing", "weigh"]

# Words that set how much of a thing is meant: a change of scope, never framing.
QUANTIFIERS = words_of("all every each whole entire both single only any several most none few")
_SAME_SCOPE = (words_of("all every each"), words_of("whole entire"))

KIN_STRICTNESS = 2 / 3
Similar = Callable[[str, str], "float | None"]


@dataclass(frozen=True)
class Weighing:
    """Cuts for one embedding model (``_thresholds.py``): cosines are not comparable across models."""

    swap_ratio: float
    swap_cosine: float
    filler_share: float


def weigh(
    a: Question,
    b: Question,
    left_a: list[int],
    left_b: list[int],
    similar: Similar,
    cuts: Weighing,
    kin: Callable[[str, str], bool],
    needs: set[str],
) -> float | None:
    """How far the unpaired words (positions in ``a`` and ``b``) are from leaving the questions
    asking the same, as a multiple of the cut: at most 1 passes, ``inf`` never does.

    None when the model has not embedded one of the texts yet; they are added to ``needs``.
    """
    for scope in _SAME_SCOPE:  # "all devices" / "every device"
        if any(a.words[i] in scope for i in left_a) and any(b.words[j] in scope for j in left_b):
            left_a = [i for i in left_a if a.words[i] not in scope]
            left_b = [j for j in left_b if b.words[j] not in scope]
    if not (left_a or left_b):
        return 0.0
    unpaired = [a.words[i] for i in left_a] + [b.words[j] for j in left_b]
    if not QUANTIFIERS.isdisjoint(unpaired) or moved_in_time(a, left_a) or moved_in_time(b, left_b):
        return math.inf
    if _kinds_of_one_head(a, left_a, b, left_b) or _kinds_of_one_head(b, left_b, a, left_a):
        return math.inf
    if any(apart(a.words[i], b.words[j]) for i in left_a for j in left_b):  # pants / trousers
        return math.inf
    # Two words of one kind (tablespoon / teaspoon, tenant / landlord) need the model surer.
    strict = any(kin(a.words[i], b.words[j]) for i in left_a for j in left_b)
    ratio = cuts.swap_ratio * (KIN_STRICTNESS if strict else 1.0)
    distance = (1 - cuts.swap_cosine) * (KIN_STRICTNESS if strict else 1.0)
    if left_a and left_b:
        whole = _moved(a, (), b, (), similar, needs)
        moved_a = _moved(a, (), a, left_a, similar, needs)
        moved_b = _moved(b, (), b, left_b, similar, needs)
        if whole is None or moved_a is None or moved_b is None:
            return None
        deleted = moved_a + moved_b
        swap = max(_over(whole, ratio * deleted), _over(whole, distance)) if deleted > 0 else math.inf
        if swap <= 1 or strict:
            return swap
        # Light words on both sides ("how long" / "time" in a keyword query, "burn" / "per").
        framing_a, framing_b = _framing(a, left_a, similar, needs), _framing(b, left_b, similar, needs)
        if framing_a is None or framing_b is None:
            return None
        return min(swap, _over(max(framing_a, framing_b), cuts.filler_share))
    question, left, other = (a, left_a, b) if left_a else (b, left_b, a)
    if _inserted(other.words, question.words):
        return math.inf
    share = _framing(question, left, similar, needs)
    return None if share is None else _over(share, cuts.filler_share)


def _kinds_of_one_head(one: Question, left_one: list[int], other: Question, left_other: list[int]) -> bool:
    """Two kinds of one thing named by its head: "living room" / "bedroom", "tea spoon" / "tablespoon" (a modifier and
    its head unpaired on one side, one word ending in that head after another modifier on the other)."""
    for i in left_one:
        if i + 1 not in left_one:
            continue
        modifier, head = one.words[i], one.words[i + 1].removesuffix("s")
        for j in left_other:
            word = other.words[j].removesuffix("s")
            if len(head) >= 3 and word.endswith(head) and len(word) - len(head) >= 3 and word[: -len(head)] != modifier:
                return True
    return False


def _over(value: float, cut: float) -> float:
    """``value`` as a multiple of ``cut`` (a cut of 0 lets only 0 through)."""
    if cut > 0:
        return value / cut
    return 0.0 if value <= 0 else math.inf


def _framing(question: Question, left: list[int], similar: Similar, needs: set[str]) -> float | None:
    """How far deleting ``left`` moves the question, as a share of deleting its other content words."""
    paired = [k for k in question.content if k not in left]
    if not paired:
        return 1.0
    moved = _moved(question, (), question, left, similar, needs)
    moved_all = _moved(question, (), question, paired, similar, needs)
    if moved is None or moved_all is None:
        return None
    return moved / moved_all if moved_all > 0 else 1.0


def _moved(
    x: Question,
    drop_x: tuple[int, ...] | list[int],
    y: Question,
    drop_y: list[int] | tuple[int, ...],
    similar: Similar,
    needs: set[str],
) -> float | None:
    """1 - cosine of the two questions' words, each without the given positions."""
    text_x, text_y = _text(x, drop_x), _text(y, drop_y)
    if text_x == text_y:
        return 0.0
    cosine = similar(text_x, text_y)
    if cosine is None:
        needs.update((text_x, text_y))
        return None
    return 1.0 - cosine


def _inserted(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    """Every word of ``short`` in ``long``, in order: ``long`` only adds words, so it narrows."""
    rest = iter(long)
    return all(word in rest for word in short)


def _text(question: Question, drop: tuple[int, ...] | list[int]) -> str:
    return " ".join(word for at, word in enumerate(question.words) if at not in drop)
