"""Gemini: hold L0 + L1 in an explicit CachedContent, created once and reused by hash.

For an OpenAI-format request to a Gemini model whose L0 + L1 (system prompt, tools,
static context) reaches the model's minimum:

1. the handle is looked up by digest (tenant, model, L0 + L1): in memory, then in the
   ``gemini_cache_handles`` table (so replicas and restarts reuse it);
2. when there is none (or it is about to expire) one request creates it while the
   others for the same digest wait on a per-digest lock: one creation, however many
   requests arrive at once;
3. the request is sent with ``cached_content`` (from the exchange's notes, set by the
   stage) and without what the cache holds
   (the system messages, L1 messages and tools), as Gemini requires.

Its lifetime: ``gemini_cache_ttl_seconds``, or a three-minute trial for a prefix not seen
before, extended to the configured lifetime when it comes back (:mod:`._gemini_ttl`).

Any failure leaves the request as it was (Gemini's implicit caching still applies).
Anthropic-format requests to Gemini are not rewritten.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from .._lru import LRU
from ..prompt._layers import Layers, key_digest
from ..prompt._learned_minimums import minimum_of
from ..prompt._state import prompt_state
from ..wire._content import content_text
from ._gemini_ttl import TRIAL_SECONDS, extend_ttl, needs_extension

if TYPE_CHECKING:
    from .._exchange import Exchange
    from ..upstream._providers import Deployment

__all__ = ["GeminiHandles", "apply_gemini", "cache_request"]

log = structlog.get_logger("layercache.gemini")

_GEMINI_BASE = "https://generativelanguage.googleapis.com/v1beta"
_MARGIN = timedelta(seconds=60)  # never hand out a handle about to expire mid-request
_REFUSED_FOR = timedelta(minutes=10)  # after a 4xx from cachedContents
_FAILED_FOR = timedelta(seconds=30)  # after a 5xx or a network error
_CLAIM_FOR = timedelta(seconds=20)  # how long a replica may take to create; others wait that long at most
_CLAIM_POLL = 0.1
_UNSUPPORTED_SCHEMA_KEYS = frozenset({"additionalProperties", "$schema", "strict"})


@dataclass
class GeminiHandles:
    """Per app: known handles by digest, and one lock per digest being created."""

    known: LRU[str, tuple[str, datetime]] = field(default_factory=lambda: LRU(5_000))
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    # Digests whose creation failed, until when not to try again: a refused prefix (e.g.
    # below a minimum the table does not know) would otherwise cost a POST per request.
    refused: LRU[str, datetime] = field(default_factory=lambda: LRU(5_000))
    extending: set[str] = field(default_factory=set)


def _schema(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _schema(v) for k, v in value.items() if k not in _UNSUPPORTED_SCHEMA_KEYS}
    if isinstance(value, list):
        return [_schema(v) for v in value]
    return value


def cache_request(body: dict[str, Any], layers: Layers, model: str, ttl_seconds: int) -> dict[str, Any] | None:
    """The ``cachedContents`` creation body for L0 + L1, or None when it cannot hold them."""
    messages = body["messages"]
    held = layers.messages_in(0) + layers.messages_in(1)
    instructions = [i for i in held if messages[i].get("role") in ("system", "developer")]
    system = [content_text(messages[i].get("content")) for i in instructions]
    contents = []
    for i in held:
        role = messages[i].get("role")
        if role in ("system", "developer"):
            continue
        if role not in ("user", "assistant") or not isinstance(messages[i].get("content"), str | list):
            return None  # tool traffic in a static layer: leave it to the request
        parts = [{"text": content_text(messages[i]["content"])}]
        contents.append({"role": "model" if role == "assistant" else "user", "parts": parts})
    request: dict[str, Any] = {"model": f"models/{model}", "ttl": f"{ttl_seconds}s"}
    if system:
        request["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
    if contents:
        request["contents"] = contents
    tools = body.get("tools") or []
    declarations = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not function.get("name"):
            return None
        declaration = {"name": function["name"], "description": function.get("description", "")}
        if function.get("parameters"):
            declaration["parameters"] = _schema(function["parameters"])
        declarations.append(declaration)
    if declarations:
        request["tools"] = [{"functionDeclarations": declarations}]
    return request


class _CreateFailed(RuntimeError):
    def __init__(self, status: int, minimum: int | None = None) -> None:
        super().__init__(f"cachedContents returned HTTP {status}")
        self.status = status
        self.minimum = minimum  # the model's minimum, when the refusal states it


# Gemini's refusal of a prefix too short to cache states the model's real minimum.
_STATED_MINIMUM = re.compile(r"min_total_token_count\D{0,4}(\d{2,7})")


def _key(exchange: Exchange, target: Deployment) -> str | None:
    return target.key_for(exchange.settings, exchange.credential)


async def _stored(exchange: Exchange, prefix_hash: str, now: datetime) -> tuple[str, datetime] | None:
    """A usable stored handle; None when there is none, it expires soon, or it is still being created."""
    db = exchange.runtime.db
    if db is None:
        return None
    from sqlalchemy import select  # SQLAlchemy loads with the database, not at import

    from ..db._tables import GeminiCacheHandle

    async with db.session() as session:
        row = (
            await session.execute(select(GeminiCacheHandle).where(GeminiCacheHandle.prefix_hash == prefix_hash))
        ).scalar_one_or_none()
    if row is None or not row.cache_name:
        return None
    # SQLite hands back naive datetimes; everything stored is UTC.
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    return (row.cache_name, expires) if expires - _MARGIN > now else None


async def _claim(exchange: Exchange, prefix_hash: str, model: str, now: datetime) -> bool:
    """Claim the creation across replicas: a pending row (no name yet) that only one can insert.

    An expired handle, or a claim abandoned past its deadline (its creator died), is replaced.
    False: another replica holds a live claim or handle.
    """
    db = exchange.runtime.db
    if db is None:
        return True
    from sqlalchemy import and_, delete, or_
    from sqlalchemy.exc import IntegrityError

    from ..db._tables import GeminiCacheHandle

    try:
        async with db.session() as session:
            await session.execute(
                delete(GeminiCacheHandle).where(
                    GeminiCacheHandle.prefix_hash == prefix_hash,
                    or_(
                        and_(GeminiCacheHandle.cache_name != "", GeminiCacheHandle.expires_at <= now + _MARGIN),
                        and_(GeminiCacheHandle.cache_name == "", GeminiCacheHandle.expires_at <= now),
                    ),
                )
            )
            session.add(
                GeminiCacheHandle(
                    prefix_hash=prefix_hash, model=model, cache_name="", created_at=now, expires_at=now + _CLAIM_FOR
                )
            )
            await session.commit()
    except IntegrityError:
        return False
    except Exception as exc:  # no database to coordinate through: this process creates on its own
        log.warning("gemini_claim_failed", error=type(exc).__name__)
    return True


async def _claimed_elsewhere(exchange: Exchange, prefix_hash: str) -> tuple[str, datetime]:
    """Wait for the replica holding the claim to store its handle (bounded)."""
    deadline = asyncio.get_running_loop().time() + _CLAIM_FOR.total_seconds()
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(_CLAIM_POLL)
        known = await _stored(exchange, prefix_hash, datetime.now(UTC))
        if known is not None:
            return known
    raise _CreateFailed(0)


async def _store(exchange: Exchange, prefix_hash: str, model: str, name: str, now: datetime, expires: datetime) -> None:
    db = exchange.runtime.db
    if db is None:
        return
    from sqlalchemy import delete

    from ..db._tables import GeminiCacheHandle

    async with db.session() as session:
        await session.execute(delete(GeminiCacheHandle).where(GeminiCacheHandle.prefix_hash == prefix_hash))
        session.add(
            GeminiCacheHandle(prefix_hash=prefix_hash, model=model, cache_name=name, created_at=now, expires_at=expires)
        )
        await session.commit()


async def _release(exchange: Exchange, prefix_hash: str) -> None:
    # A failed creation gives its claim back, so another replica need not wait out the deadline.
    db = exchange.runtime.db
    if db is None:
        return
    from sqlalchemy import delete

    from ..db._tables import GeminiCacheHandle

    with contextlib.suppress(Exception):
        async with db.session() as session:
            await session.execute(
                delete(GeminiCacheHandle).where(
                    GeminiCacheHandle.prefix_hash == prefix_hash, GeminiCacheHandle.cache_name == ""
                )
            )
            await session.commit()


async def _create(exchange: Exchange, target: Deployment, request: dict[str, Any], counted: int) -> str:
    base = (target.api_base or _GEMINI_BASE).rstrip("/")
    headers = {"content-type": "application/json"}
    key = _key(exchange, target)
    if key:
        headers["x-goog-api-key"] = key
    response = await exchange.runtime.http.post(f"{base}/cachedContents", content=json.dumps(request), headers=headers)
    if response.status_code >= 400:
        stated = _STATED_MINIMUM.search(response.text[:2000]) if response.status_code == 400 else None
        raise _CreateFailed(response.status_code, int(stated.group(1)) if stated else None)
    doc = response.json()
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise RuntimeError("cachedContents answered without a name")
    # Creation bills its tokens at the input price: the metrics count them as a cache write
    # (the provider's figure; our own count when it gives none).
    tokens = (doc.get("usageMetadata") or {}).get("totalTokenCount")
    exchange.gemini_cache_write_tokens = tokens if isinstance(tokens, int) else counted
    return name


async def _handle(
    exchange: Exchange, target: Deployment, prefix_hash: str, request: dict[str, Any], counted: int, extend: bool
) -> str:
    state = prompt_state(exchange)
    handles = state.part(GeminiHandles)
    now = datetime.now(UTC)
    known = handles.known.get(prefix_hash)
    if known is None or known[1] - _MARGIN <= now:
        try:
            async with handles.locks.setdefault(prefix_hash, asyncio.Lock()):
                known = await _find_or_create(exchange, target, handles, prefix_hash, request, counted, now)
                handles.known.put(prefix_hash, known)
        finally:
            handles.locks.pop(prefix_hash, None)
    ttl = exchange.settings.caching.gemini_cache_ttl_seconds
    if extend and needs_extension(known[1], now, ttl) and prefix_hash not in handles.extending:
        handles.extending.add(prefix_hash)  # one extension at a time per handle
        try:
            base = (target.api_base or _GEMINI_BASE).rstrip("/")
            expires = await extend_ttl(exchange, target, base, _key(exchange, target), known[0], ttl, now)
            if expires is not None:
                known = (known[0], expires)
                handles.known.put(prefix_hash, known)
                with contextlib.suppress(Exception):
                    await _store(exchange, prefix_hash, target.upstream_model, known[0], now, expires)
        finally:
            handles.extending.discard(prefix_hash)
    return known[0]


async def _find_or_create(
    exchange: Exchange,
    target: Deployment,
    handles: GeminiHandles,
    prefix_hash: str,
    request: dict[str, Any],
    counted: int,
    now: datetime,
) -> tuple[str, datetime]:
    """Under the per-digest lock: this process's handle, the database's, another replica's, or a new one."""
    refused_until = handles.refused.get(prefix_hash)
    if refused_until is not None and refused_until > now:
        raise _CreateFailed(0)  # waiters behind a failed creation do not repeat it
    known = handles.known.get(prefix_hash)
    if known is not None and known[1] - _MARGIN > now:
        return known
    known = await _stored(exchange, prefix_hash, now)
    if known is not None:
        return known
    if not await _claim(exchange, prefix_hash, target.upstream_model, now):
        return await _claimed_elsewhere(exchange, prefix_hash)
    try:
        name = await _create(exchange, target, request, counted)
    except Exception as exc:
        refused = isinstance(exc, _CreateFailed) and 400 <= exc.status < 500
        handles.refused.put(prefix_hash, now + (_REFUSED_FOR if refused else _FAILED_FOR))
        await _release(exchange, prefix_hash)
        if isinstance(exc, _CreateFailed) and exc.minimum is not None:
            await _learn_minimum(exchange, target, exc.minimum)
        raise
    expires = now + timedelta(seconds=int(str(request["ttl"]).rstrip("s")))  # a trial's, or the configured
    log.info("gemini_cache_created", model=target.upstream_model, cache=name)
    try:
        await _store(exchange, prefix_hash, target.upstream_model, name, now, expires)
    except Exception as exc:  # the handle still works in this process
        log.warning("gemini_handle_not_stored", error=type(exc).__name__)
    return name, expires


async def apply_gemini(
    exchange: Exchange, layers: Layers, target: Deployment, prefix_tokens: int, *, trial: bool = False
) -> str | None:
    """Send the request against a CachedContent holding L0 + L1; return its name, or None.

    ``trial``: a new one lives :data:`TRIAL_SECONDS` (a prefix not yet seen twice); otherwise
    a handle with little life left is extended to ``gemini_cache_ttl_seconds``."""
    body = exchange.request.body
    if exchange.request.wire != "openai" or body.get("cached_content") or body.get("tool_choice") not in (None, "auto"):
        return None
    minimum = await minimum_of(exchange, target)  # a configured entry, else what Gemini told us, else the table
    if minimum is None or prefix_tokens < minimum or layers.boundary(1) == 0:
        return None
    ttl = TRIAL_SECONDS if trial else exchange.settings.caching.gemini_cache_ttl_seconds
    request = cache_request(body, layers, target.upstream_model, ttl)
    if request is None:
        return None
    prefix_hash = key_digest(exchange.tenant, target.model, layers.prefix_digest(1))
    try:
        name = await _handle(exchange, target, prefix_hash, request, prefix_tokens, extend=not trial)
    except Exception as exc:
        log.warning("gemini_cache_unavailable", model=target.upstream_model, error=type(exc).__name__)
        return None
    held = set(layers.messages_in(0) + layers.messages_in(1))
    body["messages"] = [m for i, m in enumerate(body["messages"]) if i not in held]
    body.pop("tools", None)
    body.pop("tool_choice", None)
    # The name goes to LiteLLM as a proxy setting (``exchange.gemini_cached_content``), never in the body:
    # the translated path passes only the client's wire fields.
    return name


async def _learn_minimum(exchange: Exchange, target: Deployment, stated: int) -> None:
    """Take the minimum a refusal stated as the model's (no more creations below it)."""
    from ..prompt._learned_minimums import learned_minimums
    from ..prompt._prefix_minimums import min_prefix_tokens

    table = min_prefix_tokens(target.provider, target.upstream_model)
    if table is None:
        return
    minimums = learned_minimums(exchange)
    await minimums.load(exchange)
    learned = minimums.told(target.provider, target.upstream_model, table, stated)
    if learned is not None:
        await minimums.store(exchange, learned)
