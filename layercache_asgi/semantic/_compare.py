"""One comparison of two questions' words: the hard stops, then the pairing (``_guard.py`` says the rules).

:func:`compare_questions` never embeds: with ``similar`` (single-word cosines known so far) it can pair words by
their vectors and weigh what is left with the sentence model (``_weigh.py``); a pair it cannot decide without
vectors it lacks is refused with ``needs``, for :class:`~._guard.Guard` to embed and ask again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ._abbreviations import pair_acronyms
from ._apart import aspect_differs, confusable, near, noun_pairs, nouns_apart
from ._asked import pair_asked, reports_problem, said_otherwise, without_implied
from ._collocations import pair_collocations, pair_compounds
from ._degree import LESSER, by_opposite
from ._lexicon import Lexicon, current_lexicon
from ._modality import asked_otherwise
from ._question import MAX_COMPARED_CHARS, Question, parse
from ._structure import ASKING_LEAVE, MODAL_ADJECTIVES, agent_positions, order_swapped, past, tense_differs
from ._weigh import Weighing, weigh
from ._word_memo import word_memo

__all__ = ["CLOSE_TO_CUT", "DEFAULT_WORD_CUT", "Verdict", "WordSimilarity", "compare_questions"]

DEFAULT_WORD_CUT = 0.55
# How much less cosine a word and its WordNet hypernym need: two weak signals that agree.
HYPERNYM_ALLOWANCE = 0.15
# A refusal whose weighing is within this multiple of its cut is marked unsure (for the verifier).
CLOSE_TO_CUT = 1.5
_TAKES_ES = ("s", "x", "z", "ch", "sh", "o")
WordSimilarity = Callable[[str, str], "float | None"]


@dataclass(frozen=True)
class Verdict:
    same: bool
    reason: str = ""
    needs: tuple[str, ...] = ()  # words whose vectors would decide: the guard is unsure without them
    unsure: bool = False  # a refusal near a cut: a verifier asked about unsure refusals may overrule it


def compare_questions(
    new: str,
    cached: str,
    similar: WordSimilarity | None = None,
    word_cut: float = DEFAULT_WORD_CUT,
    weighing: Weighing | None = None,
) -> Verdict:
    """Whether a cached answer to ``cached`` also answers ``new``.

    ``similar`` gives the cosine of two single words, or None when not known yet; without
    it (or with None) only the lexical rules can pair words.
    """
    if new == cached:
        return Verdict(True)
    if len(new) > MAX_COMPARED_CHARS or len(cached) > MAX_COMPARED_CHARS:
        return Verdict(False, "too long to compare")
    a, b = parse(new), parse(cached)
    if not LESSER.keys().isdisjoint(a.words + b.words):  # "least expensive" / "cheapest"
        a, b = by_opposite(new, a, b, current_lexicon()), by_opposite(cached, b, a, current_lexicon())
    if a.words == b.words:  # the same words in the same order (a repeat, or only case and punctuation differ)
        return Verdict(True)
    if a.numbers != b.numbers:
        return Verdict(False, "numbers differ")
    if a.negated != b.negated:
        return Verdict(False, "negation differs")
    if a.asking and b.asking and a.asking != b.asking:
        return Verdict(False, "question word differs")
    if tense_differs(a.tense, b.tense) and not reports_problem(a, b):  # "I spilled..." / "What should I do..."
        return Verdict(False, "tense differs")
    if aspect_differs(a, b):  # "What is X?" / "What is X used for?"
        return Verdict(False, "aspect differs")
    if (otherwise := asked_otherwise(a, b)) is not None:  # "Must I" / "Can I"; "stop" / "keep" paying
        return Verdict(False, otherwise)
    return _Comparison(a, b, current_lexicon(), similar, word_cut, weighing).verdict()


class _Comparison:
    """One pairing of two parsed questions' content words."""

    def __init__(
        self,
        a: Question,
        b: Question,
        lexicon: Lexicon,
        similar: WordSimilarity | None,
        cut: float,
        weighing: Weighing | None = None,
    ):
        self.a, self.b, self.lexicon, self.similar, self.cut = a, b, lexicon, similar, cut
        self.weighing = weighing
        self.needs: set[str] = set()
        self.memo = word_memo(lexicon)
        self.pairs: list[tuple[int, int]] = []  # (position in a, position in b) of paired words
        self.by_vector: list[tuple[int, int]] = []  # the pairs word vectors made

    def verdict(self) -> Verdict:
        a, b = self.a, self.b
        left_a, left_b = list(a.content), list(b.content)
        # Same word or same base form.
        for i in list(left_a):
            j = next((j for j in left_b if self._same_form(a.words[i], b.words[j])), None)
            if j is not None:
                if a.words[i] != b.words[j] and past(a, i, b) != past(b, j, a) and not reports_problem(a, b):
                    return Verdict(False, "tense differs")  # live / lived
                self.pairs.append((i, j))
                left_a.remove(i)
                left_b.remove(j)
        # Repeats of a word already paired ("password" twice) need no partner.
        left_a = [i for i in left_a if not any(self._same_form(a.words[i], a.words[p]) for p, _ in self.pairs)]
        left_b = [j for j in left_b if not any(self._same_form(b.words[j], b.words[q]) for _, q in self.pairs)]
        # Opposites among all the words one question has and the other lacks, framing words too:
        # "*show* hidden files" / "hide files".
        only_a, only_b = self._lacked(a.words, b.words), self._lacked(b.words, a.words)
        # Against every word the other has that this one lacks as written: "*show* hidden files" / "hide files".
        for x, y in [(x, y) for x in only_a for y in b.words if y not in a.words] + [
            (x, y) for y in only_b for x in a.words if x not in b.words
        ]:
            if self._opposite(x, y):
                return Verdict(False, f"opposites {x}/{y}")
        left_a, left_b = pair_acronyms(a.words, b.words, left_a, left_b)
        left_a, left_b = pair_collocations(a, b, left_a, left_b, self.lexicon, self._bases, self.pairs)
        left_a, left_b = pair_compounds(a, b, left_a, left_b, self.pairs)  # "workout" / "work out"
        left_a, left_b = self._by_meaning(left_a, left_b)
        left_a, left_b = without_implied(a, b, *pair_asked(a, b, left_a, left_b))
        agents = agent_positions(a, b)
        left_a = [i for i in left_a if i not in agents[0]]
        left_b = [j for j in left_b if j not in agents[1]]
        # A name must be in the other question, if only as a plain word there ("vitamin D" / "vitamn d").
        plain_a, plain_b = {w.replace("'", "") for w in a.words}, {w.replace("'", "") for w in b.words}
        left_a = [i for i in left_a if not (a.words[i] in a.names and a.words[i].replace("'", "") in plain_b)]
        left_b = [j for j in left_b if not (b.words[j] in b.names and b.words[j].replace("'", "") in plain_a)]
        names = [a.words[i] for i in left_a if a.words[i] in a.names] + [
            b.words[j] for j in left_b if b.words[j] in b.names
        ]
        if names:
            return Verdict(False, "names differ")
        if any(confusable(a.words[i], b.words[j], self._known, self.lexicon) for i in left_a for j in left_b):
            return Verdict(False, "two words a typo apart")  # affect / effect
        if self._half_expanded(left_a, left_b):
            return Verdict(False, "content words differ")
        if (left_a and left_b) or not self._framing(left_a, left_b):
            reason = "content words differ" if left_a and left_b else "content word added"
            weighed = self._weighed(left_a, left_b)
            if weighed is None or weighed > 1:
                # Near the weighing's cut: a verifier asked about unsure refusals may settle it.
                close = weighed is not None and weighed <= CLOSE_TO_CUT
                return self._unsure_or(Verdict(False, reason, unsure=close))
        if order_swapped(self.a, self.b, self.pairs):
            return Verdict(False, "order differs")
        return Verdict(True)

    def _half_expanded(self, left_a: list[int], left_b: list[int]) -> bool:
        """A short form read as several words, one paired by word vectors, another left: "wifi" is "wireless
        network", and "bluetooth" sitting close to "wireless" leaves "network" to pass as framing."""
        for question, left, side in ((self.a, left_a, 0), (self.b, left_b, 1)):
            vectored = {pair[side] for pair in self.by_vector}
            for group in question.expanded if vectored and left else ():
                at = {k for k, word in enumerate(question.words) if word in group}
                if not at.isdisjoint(vectored) and not at.isdisjoint(left):
                    return True
        return False

    def _framing(self, left_a: list[int], left_b: list[int]) -> bool:
        """Words on one side only that the rules excuse: a typo, a modal, a word close to one of the other's."""
        extra = [(self.a.words[i], self.b) for i in left_a] + [(self.b.words[j], self.a) for j in left_b]
        for word, other in extra:
            if any(self._typo(word, w) for w in other.words):
                continue  # a misspelt framing word: "calcualte" for "calculate"
            if (
                word in MODAL_ADJECTIVES
                and MODAL_ADJECTIVES.isdisjoint(other.words)
                and not ASKING_LEAVE.isdisjoint(other.words)
            ):
                continue  # "Is it safe to..." / "Can I..."
            if any(self._close(word, other.words[k]) for k in other.content):
                continue
            if said_otherwise(word, other):
                continue
            if not any(self._synonym(word, w) for w in other.words if w not in other.names):
                return False  # a framing word's synonym or action noun is framing: "obtain" / "get", "calculation"
        return True

    def _synonym(self, x: str, y: str) -> bool:
        bx, by = self._bases(x), self._bases(y)
        return any(self.lexicon.synonyms(p, q) or self.lexicon.derived(p, q) for p in bx for q in by)

    def _weighed(self, left_a: list[int], left_b: list[int]) -> float | None:
        """The sentence model's say on the words left (``_weigh.py``; at most 1 passes), where this
        model has cuts; None when it cannot say (yet)."""
        if self.weighing is None or self.similar is None:
            return None
        nouns = noun_pairs(self.a, self.b, left_a, left_b, self.lexicon)  # as strict as two of one kind
        kin = lambda x, y: (x, y) in nouns or self._kin(x, y)  # noqa: E731
        return weigh(self.a, self.b, left_a, left_b, self.similar, self.weighing, kin, self.needs)

    def _unsure_or(self, refusal: Verdict) -> Verdict:
        if self.needs:
            # Every ordinary content word of both, so that one model call settles the next check.
            for question in (self.a, self.b):
                self.needs.update(
                    question.words[i] for i in question.content if question.words[i] not in question.names
                )
            return Verdict(False, "unsure", tuple(sorted(self.needs)))
        return refusal

    # -- word relations ---------------------------------------------------------------------

    def _bases(self, word: str) -> frozenset[str]:
        return self.memo.forms(word)

    def _lacked(self, words: tuple[str, ...], other: tuple[str, ...]) -> list[str]:
        """``words`` in none of their forms among ``other``'s (``_same_form`` against each, in one pass)."""
        forms = set(other).union(*map(self._bases, other))
        return [w for w in dict.fromkeys(words) if w not in forms and self._bases(w).isdisjoint(forms)]

    def _same_form(self, x: str, y: str) -> bool:
        return x == y or not self._bases(x).isdisjoint(self._bases(y))

    def _opposite(self, x: str, y: str) -> bool:
        return self.memo.opposite(x, y)

    def _lexical(self, x: str, y: str) -> bool:
        """Synonyms, a verb and its action noun, or a typo of a longer word."""
        bx, by = self._bases(x), self._bases(y)
        if any(self.lexicon.synonyms(p, q) or self.lexicon.derived(p, q) for p in bx for q in by):
            return True
        return self._typo(x, y) or self._shortened(x, y) or self._shortened(y, x)

    def _shortened(self, short: str, long: str) -> bool:
        """An unknown short form whose letters the long word spells in order: pt / point, mgmt / management."""
        if not 2 <= len(short) <= 5 or len(long) < len(short) + 2 or short[0] != long[0] or self._known(short):
            return False
        rest = iter(long[1:])
        return all(letter in rest for letter in short[1:])

    def _typo(self, x: str, y: str) -> bool:
        # Two real words (affect/effect) are a substitution; a typo keeps the first letter (VLOOKUP / HLOOKUP: two).
        return near(x, y) and x[0] == y[0] and not self.lexicon.empty and not (self._known(x) and self._known(y))

    def _kin(self, x: str, y: str) -> bool:
        """Of one kind and not synonyms (Sweden / Norway, boil / fry): vectors must not pair them."""
        return any(self.lexicon.same_kind(p, q) for p in self._bases(x) for q in self._bases(y))

    def _known(self, word: str) -> bool:
        # An inflection of a real word; "-es" only after the letters that take it: "acces" is no "acc" + "es".
        lexicon = self.lexicon
        return lexicon.known(word) or any(
            lexicon.known(b) and not (word == f"{b}es" and not b.endswith(_TAKES_ES)) for b in self._bases(word)
        )

    def _close(self, x: str, y: str) -> bool:
        """Close in meaning: a lexical relation or, for two ordinary words, the word vectors."""
        if self._same_form(x, y) or self._lexical(x, y):
            return True
        if self._opposite(x, y):
            return False  # opposites sit close in word vectors: "a manual or automatic X" is no "automatic X"
        if self.similar is None or not {x, y}.isdisjoint(self.a.names | self.b.names):
            return False
        cut = self._cut_for(x, y)
        if cut is None:
            return False
        cosine = self.similar(x, y)
        if cosine is None:
            self.needs.update((x, y))
            return False
        return cosine >= cut

    def _cut_for(self, x: str, y: str) -> float | None:
        """The cosine two words need: lower for a word and its hypernym (drink / consume), none for
        two words of one kind (Sweden / Norway) that no table links."""
        if confusable(x, y, self._known, self.lexicon):
            return None  # affect / effect: two words, not a typo
        bx, by = self._bases(x), self._bases(y)
        if any(self.lexicon.hypernym(p, q) for p in bx for q in by):
            return self.cut - HYPERNYM_ALLOWANCE
        if self._kin(x, y):
            return None
        return self.cut

    def _by_meaning(self, left_a: list[int], left_b: list[int]) -> tuple[list[int], list[int]]:
        words_a, words_b = self.a.words, self.b.words
        for i in list(left_a):
            j = next((j for j in left_b if self._lexical(words_a[i], words_b[j])), None)
            if j is not None:
                self.pairs.append((i, j))
                left_a.remove(i)
                left_b.remove(j)
        if not (left_a and left_b) or self.similar is None:
            return left_a, left_b
        scored: list[tuple[float, int, int]] = []
        for i in left_a:
            for j in left_b:
                x, y = words_a[i], words_b[j]
                apart = x in self.a.names or y in self.b.names or nouns_apart(self.a, self.b, i, j, self.lexicon)
                cut = None if apart else self._cut_for(x, y)
                if cut is None:
                    continue
                cosine = self.similar(x, y)
                if cosine is None:
                    self.needs.update((x, y))
                elif cosine >= cut:
                    scored.append((cosine, i, j))
        for _, i, j in sorted(scored, reverse=True):
            if i in left_a and j in left_b:
                self.pairs.append((i, j))
                self.by_vector.append((i, j))
                left_a.remove(i)
                left_b.remove(j)
        return left_a, left_b
