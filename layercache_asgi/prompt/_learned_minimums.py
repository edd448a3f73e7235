"""Minimum cacheable prefixes learned from what the provider bills, per model.

The table (:mod:`._prefix_minimums`) is the starting point; published figures disagree with
what the providers do (Claude Sonnet 4.6: 1024 on the page, no write below 2048 in practice)
and new models arrive monthly. After each Anthropic answer to a request the proxy marked:

- the marked prefix reached the minimum but nothing was written or read: the real minimum
  is higher, so it moves up to the next step above that prefix;
- something was written from a prefix below the minimum (a probe: the proxy marks a prefix
  down to one step below the minimum, which costs nothing when it is too short): the real
  minimum is at most that prefix, so it moves down to the step at or below it.

Gemini says it outright: a CachedContent refused as too short names the model's
``min_total_token_count``, which is taken as the minimum from then on.

A raise needs the model to have reported a cache write or read before (in this process): a
gateway that drops the cache fields from usage must not look like a provider caching nothing.
Steps are 512, 1024, 2048, 4096, 8192 (the bounds). Every move is logged and stored in
``learned_minimums`` (loaded once per process; replicas converge as each learns). A
``caching.min_prefix_tokens`` entry for the model wins over anything learned.
"""

from __future__ import annotations

import asyncio
import bisect
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog

from ._prefix_minimums import min_prefix_tokens
from ._state import prompt_state

if TYPE_CHECKING:
    from .._exchange import Exchange
    from .._runtime import Runtime
    from ..upstream._providers import Deployment
    from ..wire._completion import Usage

__all__ = ["STEPS", "Learned", "LearnedMinimums", "learned_minimums", "minimum_of", "probe_floor", "stored_minimums"]

log = structlog.get_logger("layercache.minimums")

STEPS = (512, 1024, 2048, 4096, 8192)


def probe_floor(minimum: int) -> int:
    """The shortest prefix worth marking below ``minimum``: one step down (a marker on a
    prefix the provider will not cache costs nothing; one it does cache teaches us)."""
    below = [s for s in STEPS if s < minimum]
    return below[-1] if below else minimum


@dataclass
class Learned:
    provider: str
    model: str
    minimum: int
    table_minimum: int
    raised: int = 0
    lowered: int = 0
    updated_at: datetime | None = None


class LearnedMinimums:
    """Per app: the learned minimums by (provider, model), loaded from the database once."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], Learned] = {}
        self.reporting: set[tuple[str, str]] = set()  # models whose usage showed a cache write or read
        self.loaded = False
        self.lock = asyncio.Lock()

    def get(self, provider: str, model: str) -> int | None:
        found = self.values.get((provider, model))
        return found.minimum if found is not None else None

    async def load(self, exchange: Exchange) -> None:
        if self.loaded:
            return
        async with self.lock:
            if self.loaded:
                return
            db = exchange.runtime.db
            if db is not None:
                from sqlalchemy import select  # with the database, not at import

                from ..db._tables import LearnedMinimum

                try:
                    async with db.session() as session:
                        rows = (await session.execute(select(LearnedMinimum))).scalars().all()
                    for r in rows:
                        self.values[(r.provider, r.model)] = Learned(
                            r.provider, r.model, r.minimum, r.table_minimum, r.raised, r.lowered, r.updated_at
                        )
                except Exception as exc:  # the table is only a starting point: learn again from scratch
                    log.warning("learned_minimums_not_loaded", error=type(exc).__name__)
            self.loaded = True

    def observe(self, provider: str, model: str, table: int, marked_tokens: int, usage: Usage) -> Learned | None:
        """Move the minimum on what one answer shows; the new value when it moved."""
        current = self.get(provider, model) or table
        written = usage.cache_read + usage.cache_write
        if written:
            self.reporting.add((provider, model))
        reports = (provider, model) in self.reporting
        if reports and usage.cache_write == 0 and usage.cache_read == 0 and marked_tokens >= current:
            target = STEPS[min(bisect.bisect_right(STEPS, marked_tokens), len(STEPS) - 1)]
            direction = "raised"
        elif usage.cache_write > 0 and written < current:
            target = STEPS[max(bisect.bisect_right(STEPS, written) - 1, 0)]
            direction = "lowered"
        else:
            return None
        if target == current or (direction == "raised") != (target > current):
            return None
        return self._move(
            provider,
            model,
            table,
            current,
            target,
            direction,
            marked_tokens=marked_tokens,
            cache_write=usage.cache_write,
            cache_read=usage.cache_read,
        )

    def told(self, provider: str, model: str, table: int, stated: int) -> Learned | None:
        """The provider stated the model's minimum (Gemini does, refusing a CachedContent too
        short): take it as it is, not a step. The new value when it moved."""
        current = self.get(provider, model) or table
        if stated == current or not 1 <= stated <= 1_000_000:
            return None
        return self._move(provider, model, table, current, stated, "stated")

    def _move(
        self, provider: str, model: str, table: int, current: int, target: int, direction: str, **seen: int
    ) -> Learned:
        learned = self.values.get((provider, model)) or Learned(provider, model, current, table)
        learned.minimum, learned.updated_at = target, datetime.now(UTC)
        if target > current:
            learned.raised += 1
        else:
            learned.lowered += 1
        self.values[(provider, model)] = learned
        log.info(
            "prefix_minimum_learned",
            provider=provider,
            model=model,
            direction=direction,
            minimum=target,
            previous=current,
            table=table,
            **seen,
        )
        return learned

    async def store(self, exchange: Exchange, learned: Learned) -> None:
        db = exchange.runtime.db
        if db is None:
            return
        from sqlalchemy import select

        from ..db._tables import LearnedMinimum

        try:
            async with db.session() as session:
                row = (
                    await session.execute(
                        select(LearnedMinimum).where(
                            LearnedMinimum.provider == learned.provider, LearnedMinimum.model == learned.model
                        )
                    )
                ).scalar_one_or_none()
                if row is None:
                    row = LearnedMinimum(provider=learned.provider, model=learned.model)
                    session.add(row)
                row.minimum, row.table_minimum = learned.minimum, learned.table_minimum
                row.raised, row.lowered = learned.raised, learned.lowered
                row.updated_at = learned.updated_at or datetime.now(UTC)
                await session.commit()
        except Exception as exc:  # kept in memory; stored with the next move
            log.warning("learned_minimum_not_stored", error=type(exc).__name__, model=learned.model)


def learned_minimums(exchange: Exchange) -> LearnedMinimums:
    return prompt_state(exchange).part(LearnedMinimums)


async def minimum_of(exchange: Exchange, target: Deployment) -> int | None:
    """The minimum for ``target``: a configured entry, else the learned value, else the table."""
    table = min_prefix_tokens(target.provider, target.upstream_model)
    overrides = exchange.settings.caching.min_prefix_tokens
    configured = (
        min_prefix_tokens(target.provider, target.upstream_model, overrides, alias=exchange.request.model)
        if overrides
        else table
    )
    if table is None or configured != table:
        return configured
    minimums = learned_minimums(exchange)
    await minimums.load(exchange)
    return minimums.get(target.provider, target.upstream_model) or table


async def stored_minimums(runtime: Runtime) -> list[Learned]:
    """What every replica learned (the database), else what this process did; for the models page."""
    found: dict[tuple[str, str], Learned] = {}
    state = runtime.prompt_state
    minimums = getattr(state, "minimums", None)
    if isinstance(minimums, LearnedMinimums):
        found.update(minimums.values)
    if runtime.db is not None:
        from sqlalchemy import select

        from ..db._tables import LearnedMinimum

        try:
            async with runtime.db.session() as session:
                rows = (await session.execute(select(LearnedMinimum))).scalars().all()
            for r in rows:
                found[(r.provider, r.model)] = Learned(
                    r.provider, r.model, r.minimum, r.table_minimum, r.raised, r.lowered, r.updated_at
                )
        except Exception as exc:
            log.warning("learned_minimums_not_loaded", error=type(exc).__name__)
    return sorted(found.values(), key=lambda m: (m.provider, m.model))
