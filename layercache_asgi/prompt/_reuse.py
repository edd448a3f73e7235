"""Will a prefix be read again before its cache entry expires? Mark it only if the reads pay.

A marker costs a write premium (Anthropic: 0.25x the input price for 5 minutes, 1x for an
hour; Gemini's CachedContent: 0.1x net plus storage per hour) and each read within the TTL
saves 0.9x. So the proxy estimates the reads to come per prefix family (tenant, model,
prefix digest) and marks when ``0.9 * reads >= premium``:

- another request of the family is in flight: it will read (the warm-up gate makes it wait);
- a family seen before, with a mean gap ``g`` between its requests: the chance that the next
  one comes within the TTL is ``p = 1 - exp(-ttl / g)``, and each read refreshes the entry,
  so the reads to come are ``p / (1 - p) = exp(ttl / g) - 1``;
- a family never seen: the same formula with ``p`` the share of this tenant's new families
  that came back within the TTL so far (prior 1 in 4: a fresh proxy marks its first new
  family, then follows what the traffic shows). One-shot traffic (a new document each time)
  drives it down and stops marking; a deferred marker costs at most one read per family.

Sessions (history present) and templates are marked whatever the estimate: both exist to
be read again. Bounded, in the process; a restart only costs one deferred marker per family.
Replicas on one PostgreSQL tell each other of families new to them (``on_new`` and
:meth:`ReuseEstimator.seen_elsewhere`, through the coordinator), so a family that reaches
several replicas is deferred once in the cluster, not once per replica.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from .._lru import LRU

__all__ = ["ANTHROPIC_PREMIUM", "READ_SAVING", "FamilyStats", "ReuseEstimator", "gemini_premium", "pays"]

READ_SAVING = 0.9  # a read bills 0.1x the input price instead of 1x
ANTHROPIC_PREMIUM = {"5m": 0.25, "1h": 1.0}  # write price 1.25x / 2x the input price
# Gemini storage per token-hour in input-token equivalents: $1.00 vs $0.30 per M (2.5 Flash),
# $4.50 vs $1.25 (2.5 Pro); ai.google.dev/gemini-api/docs/pricing.
_GEMINI_STORAGE = {"gemini-2.5-flash": 1.00 / 0.30, "gemini-2.5-pro": 4.50 / 1.25}
_GEMINI_STORAGE_DEFAULT = 3.5
# A new family comes back 1 time in 4 until the traffic says otherwise; a light prior (worth two
# families), so evidence takes over fast: at most about 3 one-shot prefixes per tenant are marked.
_PRIOR_REUSED, _PRIOR_NEW = 0.5, 2.0
_SMOOTHING = 0.5  # weight of the newest gap in the mean


def gemini_premium(model: str, ttl_seconds: float) -> float:
    """Creating a CachedContent: the prefix at the input price (the request then reads it at 0.1x
    instead of paying 1x: net 0.1x) plus storage for the TTL."""
    storage = next((v for k, v in _GEMINI_STORAGE.items() if model.startswith(k)), _GEMINI_STORAGE_DEFAULT)
    return 0.1 + storage * ttl_seconds / 3600


def pays(expected_reads: float, premium: float) -> bool:
    return READ_SAVING * expected_reads >= premium


@dataclass
class FamilyStats:
    last_seen: float
    gap: float | None = None  # mean seconds between its requests
    requests: int = 1
    in_flight: int = 0


class ReuseEstimator:
    """Per app: recent prefix families and, per tenant, how many new families came back."""

    def __init__(self) -> None:
        self.families: LRU[str, FamilyStats] = LRU(50_000)
        self.new: dict[str, int] = {}
        self.reused: dict[str, int] = {}
        self.clock = time.monotonic  # replaceable in tests
        # Called with each family this replica sees first (the coordinator tells the other replicas).
        self.on_new: Callable[[str], None] | None = None

    def expected_reads(self, family: str, tenant: str, ttl: float) -> float:
        """Reads to come of an entry written now for ``family`` (before this request is counted)."""
        stats = self.families.get(family)
        if stats is not None and stats.in_flight > 0:
            return math.inf
        if stats is None:
            p = (self.reused.get(tenant, 0) + _PRIOR_REUSED) / (self.new.get(tenant, 0) + _PRIOR_NEW)
            return p / (1 - p) if p < 1 else math.inf
        now_gap = max(self.clock() - stats.last_seen, 0.0)
        gap = now_gap if stats.gap is None else (1 - _SMOOTHING) * stats.gap + _SMOOTHING * now_gap
        if gap <= 0:
            return math.inf
        return math.expm1(min(ttl / gap, 50.0))

    def arrive(self, family: str, tenant: str, ttl: float) -> None:
        """Count a request of ``family`` as seen and in flight (until :meth:`leave`)."""
        now = self.clock()
        stats = self.families.get(family)
        if stats is None:
            self.new[tenant] = self.new.get(tenant, 0) + 1
            self.families.put(family, FamilyStats(last_seen=now, in_flight=1))
            if self.on_new is not None:
                self.on_new(family)
            return
        gap = now - stats.last_seen
        if stats.requests == 1 and gap < ttl:
            self.reused[tenant] = self.reused.get(tenant, 0) + 1
        stats.gap = gap if stats.gap is None else (1 - _SMOOTHING) * stats.gap + _SMOOTHING * gap
        stats.last_seen, stats.requests = now, stats.requests + 1
        stats.in_flight += 1
        self.families.put(family, stats)

    def seen_elsewhere(self, family: str) -> None:
        """Another replica just saw ``family`` first: its next request here is a repeat, not a new family
        (the provider's prefix cache is one for all replicas). A family known here stays as it is."""
        if self.families.get(family) is None:
            self.families.put(family, FamilyStats(last_seen=self.clock()))

    def leave(self, family: str) -> None:
        stats = self.families.get(family)
        if stats is not None and stats.in_flight > 0:
            stats.in_flight -= 1
