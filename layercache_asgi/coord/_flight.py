"""Semantic single flight across replicas: one replica asks upstream, the others read its stored answer.

A replica's own single flight (``semantic/_flight.py``) already shares one upstream call among
its identical requests; its leader also claims the question here (a claim row, one round trip).
When another replica holds it, the leader waits (at most ``single_flight_wait_seconds``) for
that replica's notification, sent once its answer is in the database, and looks the question
up again. The holder marks the claim answered (for a few seconds, so a replica whose lookup
missed the row by a moment reads it too) once its answer is written, or releases it at once
when it stored nothing; a replica that dies holds the others for the bound at most.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from .._config import SemanticCacheSettings
    from ..semantic._key import CacheKey
    from ..semantic._service import SemanticCacheService
    from ..semantic._store import StoredAnswer
    from ._claims import ClaimOutcome, Claims

__all__ = ["FLIGHT_PREFIX", "answer_elsewhere", "flight_key", "landed"]

FLIGHT_PREFIX = "sf:"  # claim keys of questions; the warm-up gate's are bare digests

log = structlog.get_logger("layercache.coord")

_ANSWERED_SECONDS = 10.0


def flight_key(key: CacheKey) -> str:
    """The claim key of an identical question (tenant, exact key, normalised input), 67 characters."""
    return FLIGHT_PREFIX + hashlib.sha256("\x00".join(key.flight).encode()).hexdigest()


async def answer_elsewhere(
    claims: Claims, service: SemanticCacheService, key: CacheKey, settings: SemanticCacheSettings, deadline: float
) -> tuple[ClaimOutcome | None, StoredAnswer | None]:
    """(the claim this replica now holds, or None; the answer another replica stored meanwhile, or None).

    Neither: go upstream without a claim (the database failed, or the other replica took too long).
    """
    claim_key = flight_key(key)
    try:
        async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
            outcome = await claims.claim([claim_key], settings.single_flight_wait_seconds)
    except Exception as exc:
        log.warning("semantic_flight_claim_failed", error=type(exc).__name__)
        return None, None
    if outcome.won:
        return outcome, None
    if outcome.signal is None:  # answered elsewhere a moment ago (the row says so): read it
        return None, await _look_again(service, key, settings)
    try:
        limit = min(deadline - time.monotonic(), outcome.expires_in)
        await asyncio.wait_for(outcome.signal.wait(), max(0.0, limit))
    except TimeoutError:
        return None, None
    finally:
        claims.done_waiting([claim_key], outcome.signal)
    return None, await _look_again(service, key, settings)


async def _look_again(
    service: SemanticCacheService, key: CacheKey, settings: SemanticCacheSettings
) -> StoredAnswer | None:
    try:
        _vector, answer, _trace = await service.lookup(key, settings)
    except Exception as exc:  # the request goes upstream, as after any failed lookup
        log.warning("semantic_lookup_failed", error=type(exc).__name__)
        return None
    return answer


def landed(claims: Claims, service: SemanticCacheService, outcome: ClaimOutcome | None, stored: bool) -> None:
    """The holder is done: release its claim once its answer (if any) is in the database."""
    if outcome is None:
        return

    async def release() -> None:
        if not stored:
            claims.release(outcome)
            return
        await service.flush()
        # "Answered" for a moment: a replica whose lookup just missed the row reads it instead of asking too.
        claims.started(outcome, _ANSWERED_SECONDS)

    task = asyncio.get_running_loop().create_task(release())
    claims.keep(task)
