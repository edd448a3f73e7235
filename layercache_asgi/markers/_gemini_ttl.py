"""Gemini CachedContent lifetimes: a short trial for a new prefix, extended once it comes back.

A CachedContent bills storage per token-hour, so an hour for a prefix that never returns is
the largest premium of all (about 3.4x its input price on 2.5 Flash). A new family whose
chance of returning pays for a few minutes of storage gets a trial of :data:`TRIAL_SECONDS`;
when the family's next request finds it, the proxy extends it (``PATCH ttl``) to the
configured ``gemini_cache_ttl_seconds``. A failed extension only logs: the handle serves until
it expires and the next request creates a new one.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from .._exchange import Exchange
    from ..upstream._providers import Deployment

__all__ = ["TRIAL_SECONDS", "extend_ttl", "needs_extension"]

TRIAL_SECONDS = 180  # at least the handles' 60-second margin plus two minutes of use

log = structlog.get_logger("layercache.gemini")


def needs_extension(expires: datetime, now: datetime, ttl_seconds: int) -> bool:
    """A handle with less than half the configured lifetime left (a trial, or an old one)."""
    return expires < now + timedelta(seconds=ttl_seconds / 2)


async def extend_ttl(
    exchange: Exchange, target: Deployment, base: str, key: str | None, name: str, ttl_seconds: int, now: datetime
) -> datetime | None:
    """The new expiry of ``name`` after asking for ``ttl_seconds`` more; None when refused."""
    headers = {"content-type": "application/json"}
    if key:
        headers["x-goog-api-key"] = key
    try:
        response = await exchange.runtime.http.patch(
            f"{base}/{name}",
            params={"updateMask": "ttl"},
            content=json.dumps({"ttl": f"{ttl_seconds}s"}),
            headers=headers,
        )
    except Exception as exc:
        log.warning("gemini_cache_not_extended", model=target.upstream_model, error=type(exc).__name__)
        return None
    if response.status_code >= 400:
        log.warning("gemini_cache_not_extended", model=target.upstream_model, status=response.status_code)
        return None
    log.info("gemini_cache_extended", model=target.upstream_model, cache=name, ttl_seconds=ttl_seconds)
    return now + timedelta(seconds=ttl_seconds)
