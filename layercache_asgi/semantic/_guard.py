"""The near-miss guard: cosine similarity says two questions are close; this says they ask the same.

Small embedding models score "Convert 50 GBP to JPY" and "Convert 50 JPY to GBP" at
0.95-0.99, and "enable 2FA" / "disable 2FA" above "enable 2FA" / "turn on 2FA". What tells
such pairs apart is a handful of words, so the guard compares those, in this order.

Hard stops (any one refuses):

- numbers (digits, number words, currency signs) must match as a multiset;
- negation (not, never, without, n't, ...) in both or in neither;
- the question words that change what is asked (who / when / where / why) and tense;
- opposites: WordNet antonyms (buy/sell, increase/reduce) and opposing affixes
  (legal/illegal, enable/disable, upload/download);
- names (capitalised words, acronyms, quoted text, days and months) must each have their
  counterpart: the same name, a typo of it or its acronym (NYC / New York City);
- order: shared words on either side of a relational marker (to, from, than, vs, in...)
  must not swap, so "100 USD to EUR" never answers "100 EUR to USD".

Then the other content words must pair up, one for one, by meaning, not surface: the same
base form (created / creating, mice / mouse), a WordNet synonym or a verb and its action
noun (purchase / buy, install / installation), a short form (pw / password) or acronym, a
typo of a longer word, or, for pairs no table knows, word vectors from the cache's own
embedding model at or above the model's word cut. A word left over on one side may stay
only if it is close in meaning to a word of the other side ("descale" / "remove limescale").

A false hit serves a wrong answer; a false miss costs one upstream call: when in doubt, refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .._lru import LRU
from ._abbreviations import initials_match
from ._lexicon import Lexicon, current_lexicon
from ._question import RELATIONS, Question, parse, words_of

__all__ = ["DEFAULT_WORD_CUT", "Guard", "Verdict", "WordSimilarity", "compare_questions"]

DEFAULT_WORD_CUT = 0.55
# How much less cosine a word and its WordNet hypernym need: two weak signals that agree.
HYPERNYM_ALLOWANCE = 0.15
WordSimilarity = Callable[[str, str], "float | None"]

_OPPOSED_PREFIXES = frozenset(
    words_of("un in im il ir dis non non- de anti mis en em ex up down out over under pre post max min inter intra")
)
_OPPOSED_SUFFIXES = (("ful", "less"), ("est", "er"))
# Opposites WordNet does not link as antonyms (or not in these senses).
_OPPOSITES = frozenset(
    tuple(sorted(pair.split("/")))
    for pair in words_of(
        "before/after above/below over/under up/down on/off in/out more/less most/least min/max minimum/maximum "
        "first/last start/end begin/end open/close import/export push/pull input/output north/south east/west "
        "left/right top/bottom increase/decrease add/remove upload/download encrypt/decrypt win/lose buy/sell "
        "rise/fall early/late hot/cold inside/outside true/false yes/no pros/cons male/female men/women boy/girl "
        "husband/wife send/receive lend/borrow teach/learn give/take enable/disable install/uninstall "
        "mount/unmount ascending/descending asc/desc maximize/minimize minimise/maximise highest/lowest "
        "cheapest/expensive cheap/expensive cheapest/priciest newest/oldest latest/earliest best/worst "
        "longest/shortest biggest/smallest fastest/slowest most/fewest upstream/downstream inbound/outbound "
        "celsius/fahrenheit kg/lb kilograms/pounds miles/kilometers miles/kilometres km/miles day/night "
        "show/hide hidden/visible visible/invisible public/private lock/unlock "
        "last/next previous/next yesterday/tomorrow past/future old/new current/previous "
        "summer/winter spring/autumn spring/fall morning/evening weekday/weekend import/export"
    )
)


@dataclass(frozen=True)
class Verdict:
    same: bool
    reason: str = ""
    needs: tuple[str, ...] = ()  # words whose vectors would decide: the guard is unsure without them


def compare_questions(
    new: str, cached: str, similar: WordSimilarity | None = None, word_cut: float = DEFAULT_WORD_CUT
) -> Verdict:
    """Whether a cached answer to ``cached`` also answers ``new``.

    ``similar`` gives the cosine of two single words, or None when not known yet; without
    it (or with None) only the lexical rules can pair words.
    """
    a, b = parse(new), parse(cached)
    if a.numbers != b.numbers:
        return Verdict(False, "numbers differ")
    if a.negated != b.negated:
        return Verdict(False, "negation differs")
    if a.asking and b.asking and a.asking != b.asking:
        return Verdict(False, "question word differs")
    if _tense_differs(a.tense, b.tense):
        return Verdict(False, "tense differs")
    return _Comparison(a, b, current_lexicon(), similar, word_cut).verdict()


def _tense_differs(x: frozenset[str], y: frozenset[str]) -> bool:
    if ("future" in x) != ("future" in y):
        return True
    past_x, past_y = "past" in x, "past" in y
    return (past_x and not past_y and "present" in y) or (past_y and not past_x and "present" in x)


class _Comparison:
    """One pairing of two parsed questions' content words."""

    def __init__(self, a: Question, b: Question, lexicon: Lexicon, similar: WordSimilarity | None, cut: float):
        self.a, self.b, self.lexicon, self.similar, self.cut = a, b, lexicon, similar, cut
        self.needs: set[str] = set()
        self.pairs: list[tuple[int, int]] = []  # (position in a, position in b) of paired words

    def verdict(self) -> Verdict:
        a, b = self.a, self.b
        left_a, left_b = list(a.content), list(b.content)
        # Same word or same base form.
        for i in list(left_a):
            j = next((j for j in left_b if self._same_form(a.words[i], b.words[j])), None)
            if j is not None:
                if a.words[i] != b.words[j] and _past(a, i) != _past(b, j):
                    return Verdict(False, "tense differs")  # live / lived
                self.pairs.append((i, j))
                left_a.remove(i)
                left_b.remove(j)
        # Repeats of a word already paired ("password" twice) need no partner.
        left_a = [i for i in left_a if not any(self._same_form(a.words[i], a.words[p]) for p, _ in self.pairs)]
        left_b = [j for j in left_b if not any(self._same_form(b.words[j], b.words[q]) for _, q in self.pairs)]
        # Opposites among all the words one question has and the other lacks, framing words too:
        # "*show* hidden files" / "hide files".
        only_a = [w for w in dict.fromkeys(a.words) if not any(self._same_form(w, v) for v in b.words)]
        only_b = [w for w in dict.fromkeys(b.words) if not any(self._same_form(w, v) for v in a.words)]
        for x in only_a:
            for y in only_b:
                if self._opposite(x, y):
                    return Verdict(False, f"opposites {x}/{y}")
        left_a, left_b = self._acronyms(left_a, left_b)
        left_a, left_b = self._by_meaning(left_a, left_b)
        agents = _agent_positions(a, b)
        left_a = [i for i in left_a if i not in agents[0]]
        left_b = [j for j in left_b if j not in agents[1]]
        names = [a.words[i] for i in left_a if a.words[i] in a.names] + [
            b.words[j] for j in left_b if b.words[j] in b.names
        ]
        if names:
            return Verdict(False, "names differ")
        if left_a and left_b:
            return self._unsure_or(Verdict(False, "content words differ"))
        extra = [(a.words[i], b) for i in left_a] + [(b.words[j], a) for j in left_b]
        for word, other in extra:
            if any(self._typo(word, w) for w in other.words):
                continue  # a misspelt framing word: "calcualte" for "calculate"
            if (
                word in _MODAL_ADJECTIVES
                and _MODAL_ADJECTIVES.isdisjoint(other.words)
                and not _ASKING_LEAVE.isdisjoint(other.words)
            ):
                continue  # "Is it safe to..." / "Can I..."
            if not any(self._close(word, other.words[k]) for k in other.content):
                return self._unsure_or(Verdict(False, "content word added"))
        if self._order_swapped():
            return Verdict(False, "order differs")
        return Verdict(True)

    def _unsure_or(self, refusal: Verdict) -> Verdict:
        if self.needs:
            return Verdict(False, "unsure", tuple(sorted(self.needs)))
        return refusal

    # -- word relations ---------------------------------------------------------------------

    def _bases(self, word: str) -> tuple[str, ...]:
        return (*self.lexicon.bases(word), _stem(word))

    def _same_form(self, x: str, y: str) -> bool:
        return x == y or not set(self._bases(x)).isdisjoint(self._bases(y))

    def _opposite(self, x: str, y: str) -> bool:
        bx, by = self._bases(x), self._bases(y)
        if any(self.lexicon.opposite(p, q) or (min(p, q), max(p, q)) in _OPPOSITES for p in bx for q in by):
            return True
        return _opposed(_stem(x), _stem(y))

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
        shorter = min(len(x), len(y))
        if shorter < 4 or abs(len(x) - len(y)) > 2:
            return False
        if self.lexicon.empty or (self._known(x) and self._known(y)):
            return False  # two real words (affect/effect, austria/australia) are a substitution
        return _edits(x, y, 1 if shorter < 8 else 2) <= (1 if shorter < 8 else 2)

    def _kin(self, x: str, y: str) -> bool:
        """Of one kind and not synonyms (Sweden / Norway, boil / fry): vectors must not pair them."""
        return any(self.lexicon.same_kind(p, q) for p in self._bases(x) for q in self._bases(y))

    def _known(self, word: str) -> bool:
        return any(self.lexicon.known(base) for base in self._bases(word))

    def _close(self, x: str, y: str) -> bool:
        """Close in meaning: a lexical relation or, for two ordinary words, the word vectors."""
        if self._same_form(x, y) or self._lexical(x, y):
            return True
        if x in self.a.names or x in self.b.names or y in self.a.names or y in self.b.names:
            return False
        if self.similar is None:
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
        bx, by = self._bases(x), self._bases(y)
        if any(self.lexicon.hypernym(p, q) for p in bx for q in by):
            return self.cut - HYPERNYM_ALLOWANCE
        if self._kin(x, y):
            return None
        return self.cut

    def _acronyms(self, left_a: list[int], left_b: list[int]) -> tuple[list[int], list[int]]:
        for short_side, long_side in ((self.a, self.b), (self.b, self.a)):
            short_left, long_left = (left_a, left_b) if short_side is self.a else (left_b, left_a)
            for i in list(short_left):
                for j in long_left:
                    span = initials_match(short_side.words[i], [long_side.words[k] for k in long_left if k >= j])
                    if span:
                        short_left.remove(i)
                        for k in [k for k in long_left if k >= j][:span]:
                            long_left.remove(k)
                        break
        return left_a, left_b

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
                cut = None if x in self.a.names or y in self.b.names else self._cut_for(x, y)
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
                left_a.remove(i)
                left_b.remove(j)
        return left_a, left_b

    def _order_swapped(self) -> bool:
        """Numbers keep their order ("15% of 80"). Paired words may move ("the GDP of Japan", "Japan's
        GDP"), but what a relational marker points at may not change: "100 USD *to* EUR" / "*to* USD",
        "faster *than* Go" / "*than* Rust", "9am *in* London ... *in* Sydney" / the other way round."""
        shared = set(self.a.numbers) & set(self.b.numbers)
        if _first(self.a.words, shared) != _first(self.b.words, shared):
            return True
        partner = dict(self.pairs)
        paired_b = set(partner.values())
        if _possession_moved(self.a, self.b, partner) or _possession_moved(
            self.b, self.a, {j: i for i, j in self.pairs}
        ):
            return True
        if _sentence(self.a) and _sentence(self.b) and self._roles_swapped():
            return True
        objects_a, objects_b = _objects(self.a), _objects(self.b)
        for marker in objects_a.keys() & objects_b.keys():
            # Paired words by their position in b, personal pronouns by themselves.
            in_a = [f"#{partner[i]}" if i in partner else self.a.words[i] for i in objects_a[marker]]
            in_b = [f"#{j}" if j in paired_b else self.b.words[j] for j in objects_b[marker]]
            in_a = [x for x in in_a if x[0] == "#" or x in _PERSONS]
            in_b = [x for x in in_b if x[0] == "#" or x in _PERSONS]
            if len(in_a) != len(objects_a[marker]) or len(in_b) != len(objects_b[marker]) or not in_a or not in_b:
                continue  # an object without a partner: the content-word checks judged it
            if set(in_a).isdisjoint(in_b):
                return True
            if set(in_a) == set(in_b) and list(dict.fromkeys(in_a)) != list(dict.fromkeys(in_b)):
                return True
        return False

    def _roles_swapped(self) -> bool:
        """Two paired words changed sides of a third: "Does a will override a trust?" / "a trust override a will"."""
        for i, j in self.pairs:
            for k, m in self.pairs:
                if i < k and j > m and any(i < p < k and m < q < j for p, q in self.pairs):
                    return True
        return False


def _sentence(question: Question) -> bool:
    """A full active sentence (an auxiliary, no passive): word order there carries who does what."""
    return not question.passive and not _AUXILIARIES.isdisjoint(question.words)


def _possession_moved(a: Question, b: Question, partner: dict[int, int]) -> bool:
    """A's "wife's car" must stay "wife('s) car" or "car of (the) wife" in B, not "wife driving my car"."""
    for i in a.possessors:
        k = next((c for c in a.content if c > i), None)
        if k is None or i not in partner or k not in partner:
            continue
        pi, pk = partner[i], partner[k]
        after_pi = next((c for c in b.content if c > pi), None)
        if after_pi == pk or (pk < pi and "of" in b.words[pk:pi]):
            continue
        return True
    return False


# "Is it safe / legal / OK to ..." asks what "Can I ..." asks.
_MODAL_ADJECTIVES = words_of("safe legal ok okay possible allowed fine acceptable permitted")
# What "Is it OK to ...?" may stand for: "Can I ...?", "Is it correct / right / proper to ...?"
_ASKING_LEAVE = words_of("can could may correct right proper")
_AUXILIARIES = words_of("do does did can could will would should")
_DETERMINERS = words_of("a an the my your our their his her its this that these those")


def _agent_positions(a: Question, b: Question) -> tuple[set[int], set[int]]:
    """Who does it, in the active form of a passive question: "How do *dealers* calculate a value?" for
    "How is a value calculated?". The passive leaves the agent out; it asks the same."""
    found: tuple[set[int], set[int]] = (set(), set())
    for side, (active, passive) in enumerate(((a, b), (b, a))):
        if active.passive or not passive.passive:
            continue
        for at, word in enumerate(active.words):
            if word in _AUXILIARIES:
                nxt = at + 1
                while nxt < len(active.words) and active.words[nxt] in _DETERMINERS:
                    nxt += 1
                if nxt < len(active.words) and nxt in active.content:
                    found[side].add(nxt)
                break
    return found


# Markers whose object is what the question is about: "to", "into" and "onto" point the same way.
_PERSONS = words_of("me you him her us them")
_MARKER_CLASS = {"into": "to", "onto": "to", "towards": "to", "toward": "to", "versus": "vs", "against": "vs"}


def _objects(question: Question) -> dict[str, list[int]]:
    """Per relational marker, the positions of the content words (or personal pronouns) right after it."""
    found: dict[str, list[int]] = {}
    content = [
        i for i, w in enumerate(question.words) if (i in question.content and w not in RELATIONS) or w in _PERSONS
    ]
    for at, word in enumerate(question.words):
        if word in RELATIONS:
            following = next((i for i in content if i > at), None)
            if following is not None:
                found.setdefault(_MARKER_CLASS.get(word, word), []).append(following)
    return found


_BE = words_of("be is are am was were been being get gets got")


def _past(question: Question, at: int) -> bool:
    """A verb in -ed that is not a passive participle ("lived", not "is taxed", "be salted")."""
    word = question.words[at]
    return word.endswith("ed") and len(word) > 4 and _BE.isdisjoint(question.words[:at])


def _first(words: tuple[str, ...], keep: set[str]) -> list[str]:
    return list(dict.fromkeys(w for w in words if w in keep))


def _stem(word: str) -> str:
    """A light stemmer for words the lexicon does not know (dockerfiles -> dockerfile)."""
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith(("ss", "us", "is")):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def _opposed(x: str, y: str) -> bool:
    """Two words that differ by an opposing affix: legal/illegal, enable/disable, useful/useless."""
    for long, short in ((x, y), (y, x)):
        if long.endswith(short) and long[: len(long) - len(short)] in _OPPOSED_PREFIXES and len(short) >= 3:
            return True
    for cut in range(3, min(len(x), len(y))):
        if x[-cut:] == y[-cut:] and x[:-cut] in _OPPOSED_PREFIXES and y[:-cut] in _OPPOSED_PREFIXES:
            return True
    for end_x, end_y in _OPPOSED_SUFFIXES:
        for p, q in ((x, y), (y, x)):
            if p.endswith(end_x) and q.endswith(end_y) and p[: -len(end_x)] == q[: -len(end_y)]:
                return True
    return False


def _edits(x: str, y: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours is one edit), stopping past ``limit``."""
    previous2: list[int] = []
    previous = list(range(len(y) + 1))
    for i, cx in enumerate(x, 1):
        row = [i] + [0] * len(y)
        for j, cy in enumerate(y, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (cx != cy))
            if i > 1 and j > 1 and cx == y[j - 2] and x[i - 2] == cy:
                row[j] = min(row[j], previous2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        previous2, previous = previous, row
    return previous[-1]


class _Embeds(Protocol):
    async def embed(self, texts: list[str]) -> Any: ...


class Guard:
    """The guard with word vectors from the cache's embedding model, kept in an LRU.

    :meth:`check` never waits: a pair it cannot decide without vectors not seen yet is refused
    with ``needs``; :meth:`learn` embeds those words (one model call) so the next check decides.
    """

    def __init__(self, embedder: _Embeds | None, word_cut: float = DEFAULT_WORD_CUT, size: int = 50_000) -> None:
        self.embedder = embedder
        self.word_cut = word_cut
        self._vectors: LRU[str, Any] = LRU(size)

    def check(self, new: str, cached: str, word_cut: float | None = None) -> Verdict:
        similar = self._similarity if self.embedder is not None else None
        return compare_questions(new, cached, similar, self.word_cut if word_cut is None else word_cut)

    async def learn(self, words: tuple[str, ...] | list[str]) -> None:
        missing = [w for w in dict.fromkeys(words) if w not in self._vectors]
        if missing and self.embedder is not None:
            rows = await self.embedder.embed(missing)
            for word, row in zip(missing, rows, strict=True):
                self._vectors.put(word, row)

    async def judge(self, new: str, cached: str, word_cut: float | None = None) -> Verdict:
        """:meth:`check`, embedding the words it needs first."""
        verdict = self.check(new, cached, word_cut)
        if verdict.needs:
            await self.learn(verdict.needs)
            verdict = self.check(new, cached, word_cut)
        return verdict

    def _similarity(self, x: str, y: str) -> float | None:
        vx, vy = self._vectors.get(x), self._vectors.get(y)
        if vx is None or vy is None:
            return None
        return float(vx @ vy)
