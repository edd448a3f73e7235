"""Words that look or sound close and still ask about something else.

Word vectors of a small model put two things of one sort side by side (router / modem 0.57,
mortgage / loan 0.73, vehicle / truck 0.75) and put two real words one letter apart together
(affect / effect 0.76, desert / dessert 0.57). The word table knows better in both cases:

- two things WordNet names as nouns, where the question uses them as nouns, are the same
  thing only if WordNet says so (a synonym): the vectors of two such nouns never pair them,
  whether they are sisters (router / modem), a kind and its member (loan / mortgage) or
  neither, and the sentence model weighs their swap as strictly as two words of one kind;
- two real words one typo apart (affect / effect, lose / loose) are two words, never a typo,
  and left unpaired they refuse;
- a question that adds what a thing is *used for* or how it *works*, or asks how to do something
  with it ("How do I *get* bokeh?"), asks another aspect of it than "What is X?" (these framing
  words are otherwise dropped as light); "What is a *radioactive* isotope?" asks about a narrower
  term than "What is an isotope?".
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from ._lexicon import Lexicon
from ._question import DETERMINERS, Question, words_of
from ._relations import edits, stem

__all__ = ["aspect_differs", "confusable", "near", "noun_at", "noun_pairs", "nouns_apart"]

# Light words that, added to a question about a thing, ask about one aspect of it.
_ASPECTS = (words_of("use uses used using usage"), words_of("work works worked working"))
_DEFINE = words_of("define explain describe")
_DOING = {(w,) for w in words_of("do can could should would")}
_DOERS = {(w,) for w in words_of("i you we one")}
# "How would you define X?", "How do I explain what X means?" still ask what X is.
_DEFINING = _DEFINE | words_of("defined definition mean means meaning")
_IS = words_of("is are s")
_AUXILIARIES = words_of("is are was were does do did can could should would")
_AMOUNT = words_of("much many")
Pair = tuple[str, str]


def noun_at(question: Question, at: int, lexicon: Lexicon) -> bool:
    """The word at ``at`` names a thing WordNet files as a noun: it follows a determiner, a
    possessive or the auxiliary opening a question ("my router", "a will", "Is milk ...?"),
    or it has no verb sense (salmon, refrigerator)."""
    word, bases = question.words[at], lexicon.bases(question.words[at])
    if not any(base in lexicon.kinds for base in bases) or _superlative(word, bases):
        return False  # not a noun (or verb) WordNet classifies; "the highest"
    before = question.words[at - 1] if at > 0 else ""
    if before in DETERMINERS or before in _AMOUNT or at - 1 in question.possessors:
        return True  # "my router", "how much *water*"
    if before == "of" and not word.endswith("ing"):
        return True  # "get rid of *fleas*", "a cup of *water*": "of" takes a noun (or a gerund: "of running")
    if at == 1 and before in _AUXILIARIES and not word.endswith("ing"):
        return True  # "Is milk ...?", not "Would purchasing ...?"
    return not _verb(word, lexicon)


def _superlative(word: str, bases: tuple[str, ...]) -> bool:
    return word.endswith("est") and any(word in (b + "est", b + "st", b + b[-1:] + "est") for b in bases[1:])


def nouns_apart(a: Question, b: Question, i: int, j: int, lexicon: Lexicon) -> bool:
    """Two nouns WordNet knows (the guard asks only of words no table links): router / modem.

    In one slot (the same word before both) a word that can only be a noun makes the other one a noun too:
    "my dog eats *grass*" / "... *dirt*", "red wine *carpet* stain" / "... *sofa* stain"."""
    noun_a, noun_b = noun_at(a, i, lexicon), noun_at(b, j, lexicon)
    if noun_a and noun_b:
        return True
    if not (noun_a or noun_b) or i - 1 not in a.content or j - 1 not in b.content or a.words[i - 1] != b.words[j - 1]:
        return False  # after a shared content word, not after "I" ("I change" / "I update" are verbs)
    return _slot_noun(a.words[i], lexicon) and _slot_noun(b.words[j], lexicon)


def _slot_noun(word: str, lexicon: Lexicon) -> bool:
    # Not a gerund: "free *shipping*" / "free delivery".
    return not word.endswith("ing") and any(base in lexicon.kinds for base in lexicon.bases(word))


def noun_pairs(a: Question, b: Question, left_a: list[int], left_b: list[int], lexicon: Lexicon) -> set[Pair]:
    return {(a.words[i], b.words[j]) for i in left_a for j in left_b if nouns_apart(a, b, i, j, lexicon)}


def near(x: str, y: str) -> bool:
    """Within a typo of each other: 1 edit from 4 letters, 2 from 8."""
    shorter = min(len(x), len(y))
    if shorter < 4 or abs(len(x) - len(y)) > 2:
        return False
    return _near(x, y) if shorter <= 40 else _within_a_typo(x, y, shorter)


@lru_cache(maxsize=65_536)  # the guard asks of the same word pairs in candidate after candidate
def _near(x: str, y: str) -> bool:
    return _within_a_typo(x, y, min(len(x), len(y)))


def _within_a_typo(x: str, y: str, shorter: int) -> bool:
    limit = 1 if shorter < 8 else 2
    return edits(x, y, limit) <= limit


def confusable(x: str, y: str, known: Callable[[str], bool], lexicon: Lexicon) -> bool:
    """Two real words a typo apart (affect / effect, desert / dessert): two words, not a typo.

    Not a verb and its noun spelt alike but for the ending (lose / loss, advise / advice), nor
    two long compounds of one head (telephone / cellphone)."""
    if not (near(x, y) and known(x) and known(y)):
        return False
    if x[:-2] == y[:-2] and _verb(x, lexicon) != _verb(y, lexicon):
        return False
    return not (min(len(x), len(y)) >= 8 and x[-5:] == y[-5:])


def _verb(word: str, lexicon: Lexicon) -> bool:
    return any(base in lexicon.up for base in lexicon.bases(word))


def aspect_differs(a: Question, b: Question) -> bool:
    """One question asks what a thing is used for, how it works or how to do something with it ("How
    do I get bokeh?"), the other only what it is."""
    for x, y in ((a, b), (b, a)):
        if _how_to(x) and _DEFINING.isdisjoint(x.words) and _bare_definition(y):
            return True
    if _bare_definition(a) and _bare_definition(b):
        # "What is X?" asks about its words as one term: one more is a narrower term ("a radioactive isotope").
        terms_a, terms_b = ({stem(q.words[i]) for i in q.content} for q in (a, b))
        return terms_a < terms_b or terms_b < terms_a
    for aspect in _ASPECTS:
        in_a, in_b = not aspect.isdisjoint(a.words), not aspect.isdisjoint(b.words)
        if in_a != in_b and _defining(b if in_a else a):
            return True
    return False


def _how_to(question: Question) -> bool:
    """ "How do I / can you / to ...": asks how to do something."""
    words = question.words
    return words[:1] == ("how",) and (words[1:2] == ("to",) or (words[1:2] in _DOING and words[2:3] in _DOERS))


def _bare_definition(question: Question) -> bool:
    """ "What is (a) X?" and nothing else: no "way", "of", "between" that asks something more of X."""
    words, content = question.words, set(question.content)
    return (
        bool(content)
        and words[0] in ("what", "whats")
        and all(w in _IS or w in DETERMINERS or at in content for at, w in enumerate(words[1:], 1))
    )


def _defining(question: Question) -> bool:
    """What is X?", "What's X?", "Define X", "Explain X": asks what a thing is."""
    words, content = question.words, question.content
    if not content or words[0] in _DEFINE:
        return bool(content)
    return words[0] in ("what", "whats") and all(w in _IS or w in DETERMINERS for w in words[1 : content[0]])
