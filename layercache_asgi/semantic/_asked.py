"""One request, said as a question in one place and another way in the other.

- A keyword query names with a noun what a question asks with its question word: "boil egg
  *time*" / "*how long* should I boil an egg", "visa *cost*" / "*how much* is a visa",
  "*causes* of hay fever" / "*why* do I get hay fever". The noun and the question word's own
  word ("long", "much") pair; the noun's side must not ask with a question word itself ("what time"
  is read as "when").
- A first-person statement of a problem asks what a question about it asks: "I keep getting
  cramp when I swim." / "How do I avoid cramp when swimming?". Between such a statement and a
  question, the words that only say "this keeps happening" or "help me with it" are framing.
  Both must be about the same things: every other word still pairs, and negation, numbers,
  names and opposites are checked as for any pair.
"""

from __future__ import annotations

from ._modality import said_as_modal
from ._question import Question, words_of
from ._register import FUTURE_TIME

__all__ = ["pair_asked", "reports_problem", "said_otherwise", "statement", "without_implied", "without_light_verbs"]

# The word after "how" (or a question word) -> nouns that ask the same in a keyword query.
_ASKED_BY = {
    "long": words_of("time duration length"),
    "much": words_of("cost costs price prices fee fees amount"),
    "many": words_of("count amount"),
    "old": words_of("age"),
    "often": words_of("frequency schedule interval intervals"),
    "why": words_of("reason reasons cause causes"),
    "where": words_of("location"),
    "when": words_of("date dates time times hours"),
}
# Verbs that link a subject to what it is or seems: "appear blue" asks what "is blue" does.
_COPULAS = words_of("is are was were be appear appears appeared seem seems seemed")
_WORTH = words_of("worth worthwhile")
_COMPARING, _VERSUS = words_of("difference differences compare comparison"), words_of("vs versus")
_ASKING = words_of("how when where why who")  # "what" only frames: "What is the cost of..."
_HELP = words_of("fix solve resolve stop avoid prevent relieve handle deal cure treat cause causes why")
_MODAL_ASKING = words_of("should can could might")
_TAKE = words_of("take takes took taking")
_FIRST_PERSON = words_of("i im ive id my mine me we our there")
# Said by a statement of a problem ("I keep...", "always", "too"), or by a question asking for help with it.
_IMPLIED = words_of(
    "keep keeps kept always constantly often problem problems issue issues trouble "
    "fix solve resolve stop avoid prevent relieve handle deal cure treat happen happens happening"
)


def pair_asked(a: Question, b: Question, left_a: list[int], left_b: list[int]) -> tuple[list[int], list[int]]:
    """``left_a`` and ``left_b`` without a keyword query's noun and the question word it stands for."""
    for noun_side, noun_left, other, other_left in ((a, left_a, b, left_b), (b, left_b, a, left_a)):
        for i in list(noun_left):
            for k in range(len(other.words)):
                asked = _question_word(other, k)
                if asked is None or noun_side.words[i] not in _ASKED_BY[asked]:
                    continue
                if not _ASKING.isdisjoint(noun_side.words):
                    continue  # a question of its own: "*When* is the time limit?"
                noun_left.remove(i)
                # "How long does it *take*": the verb only carries the question.
                other_left[:] = [n for n in other_left if n != k and not (asked == "long" and other.words[n] in _TAKE)]
                break
    return left_a, left_b


def _question_word(question: Question, at: int) -> str | None:
    """The key of ``_ASKED_BY`` the word at ``at`` asks with: "how long" -> "long", "why" -> "why"."""
    word = question.words[at]
    if word in ("why", "where", "when"):
        return word
    if word in _ASKED_BY and at > 0 and question.words[at - 1] == "how":
        return word
    return None


def without_light_verbs(question: Question, left: list[int]) -> list[int]:
    """``left`` without a "take" that only makes a verb of its noun: "take a screenshot" / "screenshot"."""
    words = question.words
    return [i for i in left if not (words[i] in _TAKE and i + 1 < len(words) and words[i + 1] in ("a", "an"))]


def statement(question: Question) -> bool:
    """A first-person statement ("I keep getting...", "My car pulls...", "There is water...")."""
    return bool(question.words) and question.words[0] in _FIRST_PERSON


def reports_problem(a: Question, b: Question) -> bool:
    """One side tells what happened ("I spilled coffee on my laptop."), the other asks what to do about it
    ("What should I do after spilling coffee...?", "How do I fix..."): their tenses may differ."""
    if statement(a) == statement(b):
        return False
    words = set(b.words if statement(a) else a.words)
    return bool(words & _HELP) or ("what" in words and not words.isdisjoint(_MODAL_ASKING))


def without_implied(a: Question, b: Question, left_a: list[int], left_b: list[int]) -> tuple[list[int], list[int]]:
    """Between a statement of a problem and a question, the framing words of either dropped."""
    left_a, left_b = without_light_verbs(a, left_a), without_light_verbs(b, left_b)
    if statement(a) == statement(b):
        return left_a, left_b
    return [i for i in left_a if a.words[i] not in _IMPLIED], [j for j in left_b if b.words[j] not in _IMPLIED]


def said_otherwise(word: str, other: Question) -> bool:
    """A word on one side only that says what the other question says with its own framing words."""
    if word in _COMPARING and not _VERSUS.isdisjoint(other.words):
        return True  # "virus vs bacteria" / "the difference between a virus and bacteria"
    if word in FUTURE_TIME and "future" in other.tense:
        return True  # "Is rain forecast..." / "Will it rain..."
    if (word in _WORTH and "should" in other.words) or said_as_modal(word, other):
        return True  # "Is it worth getting X?" / "Should I get X?"; "Is it necessary to" / "Do I need to"
    return word in _COPULAS and not _COPULAS.isdisjoint(other.words)  # "appear blue" / "is blue"
