"""The near-miss guard: cosine similarity says two questions are close; this says they ask the same.

Small embedding models score "Convert 50 GBP to JPY" / "Convert 50 JPY to GBP" at 0.95-0.99, "enable 2FA" / "disable
2FA" above "enable 2FA" / "turn on 2FA". A few words tell such pairs apart: the guard compares those, in order.

Questions are put into plain words first (``_register.py``); ``_asked.py`` pairs what is asked in another form
("time" / "how long"); over ``MAX_COMPARED_CHARS`` only an exact repeat passes.

Hard stops (any one refuses):

- numbers (digits, number words, currency signs) must match as a multiset;
- negation (not, never, without, n't, ...) in both or in neither;
- the question words that change what is asked (who / when / where / why) and tense;
- an aspect added to "What is X?" (what it is used for, how it works, how to get it: ``_apart.py``);
- the modal of a yes/no question ("Must I" / "Can I" / "Should I") and a phase verb ("stop" / "keep" doing):
  ``_modality.py``;
- opposites: WordNet antonyms (buy/sell, increase/reduce) and opposing affixes (legal/illegal, enable/disable);
- names (capitalised words, acronyms, quoted text, days and months) must each have their counterpart: the same
  name, a typo of it or its acronym (NYC / New York City);
- relations (``_structure.py``): what a marker (to, from, than, vs, in...) points at must not change, so "100 USD
  to EUR" never answers "100 EUR to USD"; nor who owns what ("my sister's car") or, in a full sentence, who does
  what to whom ("a will overrides a trust").

Then the other content words must pair up, one for one, by meaning, not surface: the same base form (mice /
mouse), a WordNet synonym, a verb and its action noun (install / installation), an adjective and its attribute
(heavy / weight), a WordNet collocation (switch off / turn off), a short form (pw / password) or acronym, a typo of
a longer word, or word vectors from the cache's own embedding model at or above its word cut; never two words of
one WordNet kind (Sweden / Norway), two nouns WordNet knows apart (router / modem, loan / mortgage) or two real
words a typo apart (affect / effect: a hard stop; ``_apart.py``). A word left on one side may stay if close in
meaning to one of the other ("descale" / "remove limescale"), a passive's agent, or a misspelt framing word. The
rest is weighed by the sentence model (``_weigh.py``): a swap that moves the question far less than deleting the
words would, or framing words that barely move it, pass.

A false hit serves a wrong answer; a false miss costs one upstream call: when in doubt, refuse.
"""

from __future__ import annotations

from typing import Any, Protocol

from .._lru import LRU, text_key
from ._compare import DEFAULT_WORD_CUT, Verdict, WordSimilarity, compare_questions
from ._lexicon import current_lexicon
from ._weigh import Weighing

__all__ = [
    "DEFAULT_WORD_CUT",
    "LEARN_ROUNDS",
    "VERDICTS_KEPT",
    "Guard",
    "Verdict",
    "WordSimilarity",
    "compare_questions",
]

# Model calls one judgement may need: word vectors first, then the texts of the words they left unpaired.
LEARN_ROUNDS = 2
VERDICTS_KEPT = 10_000  # pairs a guard remembers its decided verdict for (a paraphrase asked again)


class _Embeds(Protocol):
    async def embed(self, texts: list[str]) -> Any: ...


class Guard:
    """The guard with word vectors from the cache's embedding model, kept in an LRU.

    :meth:`check` never waits: a pair it cannot decide without vectors not seen yet is refused
    with ``needs``; :meth:`learn` embeds those words, or the texts the weighing compares (one
    model call), so the next check decides. The LRU holds both.
    """

    def __init__(
        self,
        embedder: _Embeds | None,
        word_cut: float = DEFAULT_WORD_CUT,
        size: int = 50_000,
        weighing: Weighing | None = None,
    ) -> None:
        self.embedder = embedder
        self.word_cut = word_cut
        self.weighing = weighing
        self._vectors: LRU[bytes, Any] = LRU(size)  # by digest: the weighing's texts are whole questions
        self._verdicts: LRU[tuple[Any, ...], Verdict] = LRU(VERDICTS_KEPT)
        self._new: tuple[str | None, bytes] = (None, b"")  # the last new question and its digest

    def check(self, new: str, cached: str, word_cut: float | None = None, weighing: Weighing | None = None) -> Verdict:
        similar = self._similarity if self.embedder is not None else None
        cut = self.word_cut if word_cut is None else word_cut
        weighing = self.weighing if weighing is None else weighing
        # Digests, not the texts: a client's question can be large, and 10,000 of them held as keys is not bounded.
        if self._new[0] != new:  # a lookup checks one new question against each candidate: digest it once
            self._new = (new, text_key(new))
        key = (self._new[1], text_key(cached), cut, weighing, similar is not None)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = compare_questions(new, cached, similar, cut, weighing)
            if not verdict.needs and not current_lexicon().empty:  # decided for good: a repeat costs a lookup
                self._verdicts.put(key, verdict)
        return verdict

    async def learn(self, words: tuple[str, ...] | list[str]) -> None:
        missing = [w for w in dict.fromkeys(words) if text_key(w) not in self._vectors]
        if missing and self.embedder is not None:
            rows = await self.embedder.embed(missing)
            for word, row in zip(missing, rows, strict=True):
                self._vectors.put(text_key(word), row)

    async def judge(
        self, new: str, cached: str, word_cut: float | None = None, weighing: Weighing | None = None
    ) -> Verdict:
        """:meth:`check`, embedding the words (and texts) it needs first."""
        verdict = self.check(new, cached, word_cut, weighing)
        for _ in range(LEARN_ROUNDS):
            if not verdict.needs:
                break
            await self.learn(verdict.needs)
            verdict = self.check(new, cached, word_cut, weighing)
        return verdict

    def _similarity(self, x: str, y: str) -> float | None:
        vx, vy = self._vectors.get(text_key(x)), self._vectors.get(text_key(y))
        if vx is None or vy is None:
            return None
        return float(vx @ vy)
