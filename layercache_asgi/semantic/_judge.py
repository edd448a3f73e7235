"""Judging the candidates of one lookup, and the trace it leaves for tuning.

A candidate (a stored question at or above the similarity threshold) is judged by the guard,
then, where ``verifier.when`` says so, by the second-stage verifier, whose word is final for
the candidates it is asked about. Each candidate is judged once per lookup; the trace keeps
every judgement and the nearest similarity seen, whatever the threshold, for the metrics
and the dashboard (``metrics/_semantic.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._verifier import VerifierSlot, asks_verifier

if TYPE_CHECKING:
    from .._config import SemanticCacheSettings
    from ._index import Candidate

__all__ = ["Guard", "Judge", "Judgement", "LookupTrace", "guard_unsure"]


@dataclass(frozen=True)
class Judgement:
    similarity: float
    stored_query: str
    verdict: Any  # the guard's Verdict (``same``, ``reason``...); None with the guard off
    score: float | None  # the verifier's, when it was asked and answered
    verifier: str  # "" (not asked), "ok", "unavailable" or "error"
    accepted: bool

    @property
    def guard_refused(self) -> bool:
        return self.verdict is not None and not self.verdict.same


@dataclass
class LookupTrace:
    """What one lookup saw: the nearest stored question's similarity and each judgement."""

    query: str
    nearest: float | None = None  # None: nothing stored to compare with
    judged: dict[str, Judgement] = field(default_factory=dict)  # by stored question

    def needs(self) -> list[str]:
        """Words the guard said it needed to decide (a verdict's ``needs``), of refusals nobody
        settled: once the guard knows them, judging again may decide otherwise."""
        words: list[str] = []
        for judged in self.judged.values():
            if guard_unsure(judged.verdict) and judged.score is None:
                words.extend(getattr(judged.verdict, "needs", ()))
        return words

    def saw(self, similarity: float | None) -> None:
        if similarity is not None and (self.nearest is None or similarity > self.nearest):
            self.nearest = similarity


def guard_unsure(verdict: Any) -> bool:
    """A refusal the guard itself marks as unsure (it lacked what it needed to decide), as
    opposed to a hard stop such as different numbers or a negation."""
    if verdict is None or verdict.same:
        return False
    if getattr(verdict, "unsure", False) is True:  # near a cut of the guard's weighing
        return True
    return bool(getattr(verdict, "needs", ())) or getattr(verdict, "reason", "") == "unsure"


Guard = Callable[[str, str], Any]  # (new question, stored question) -> the guard's Verdict


class Judge:
    """Decides the candidates of one lookup; ``accept`` is what the store calls.

    ``guard`` is None with the guard off (every candidate above the threshold passes it).
    """

    def __init__(
        self, query: str, settings: SemanticCacheSettings, guard: Guard | None, verifier: VerifierSlot | None
    ) -> None:
        self.query = query
        self.settings = settings
        self.guard = guard
        self.verifier = verifier if verifier is not None and verifier.configured else None
        self.trace = LookupTrace(query)

    async def accept(self, candidate: Candidate) -> bool:
        known = self.trace.judged.get(candidate.query)
        # Judged once per lookup; an unsure refusal nobody settled is judged again (the guard may know more now).
        if known is not None and not (guard_unsure(known.verdict) and known.score is None):
            return known.accepted
        verdict = self.guard(self.query, candidate.query) if self.guard is not None else None
        passed = verdict is None or bool(verdict.same)
        accepted, score, asked = passed, None, ""
        when = self.settings.verifier.when
        if self.verifier is not None and asks_verifier(when, passed, guard_unsure(verdict)):
            score, asked = await self.verifier.score(self.query, candidate.query)
            if score is not None:
                accepted = score >= self.settings.verifier.threshold
        self.trace.judged[candidate.query] = Judgement(
            candidate.similarity, candidate.query, verdict, score, asked, accepted
        )
        return accepted
