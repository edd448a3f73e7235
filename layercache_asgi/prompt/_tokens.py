"""Token counts for prompt parts, with LiteLLM's counter, off the event loop and memoised.

Parts are counted one by one and remembered by (model, content digest), so a long
system prompt or conversation is tokenised once, not on every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._lru import LRU
from ._layers import Layers, minified, part_value

if TYPE_CHECKING:
    from .._config import Host

__all__ = ["count_parts", "count_prefix", "part_text", "start_tokenizer"]

# Per-message overhead the chat formats add (role, separators): about what tiktoken adds.
_MESSAGE_OVERHEAD = 4
_memo: LRU[tuple[str, str], int] = LRU(50_000)
# (model, digest of a prefix's part digests) -> its tokens: what the marker decision counted, asked
# again after the answer (learning minimums) and by the next request that repeats the same prefix.
_prefix_memo: LRU[tuple[str, str], int] = LRU(10_000)


def part_text(value: Any) -> str:
    """The text a tokenizer should see for one part: plain text as is, structure as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str) and set(value) <= {"role", "content", "name"}:
        return str(value["content"])
    return minified(value).decode()


def _count(model: str, texts: list[str]) -> list[int]:
    from ..upstream._litellm import litellm  # lazy: importing LiteLLM costs seconds

    return [int(litellm.token_counter(model=model, text=t)) + _MESSAGE_OVERHEAD if t else 0 for t in texts]


async def count_parts(model: str, parts: Sequence[tuple[str, Any]]) -> list[int]:
    """Tokens of each ``(digest, value)`` part for ``model`` (a LiteLLM model string)."""
    missing = [(d, v) for d, v in parts if (model, d) not in _memo]
    if missing:
        unique = dict(missing)
        counts = await asyncio.to_thread(_count, model, [part_text(v) for v in unique.values()])
        for d, n in zip(unique, counts, strict=True):
            _memo.put((model, d), n)
    return [_memo.get((model, d)) or 0 for d, _ in parts]


async def count_prefix(model: str, layers: Layers, body: Mapping[str, Any], end: int) -> int:
    """Tokens of the first ``end`` parts of ``layers`` (of ``body``) for ``model``: one hash when that
    prefix was counted before, else the parts, each memoised (only new parts are read from the body)."""
    key = (model, layers.head_digest(end))
    total = _prefix_memo.get(key)
    if total is None:
        parts = layers.parts[:end]
        new = {p.digest for p in parts if (model, p.digest) not in _memo}
        counts = await count_parts(
            model, [(p.digest, part_value(body, p.path) if p.digest in new else None) for p in parts]
        )
        total = sum(counts)
        _prefix_memo.put(key, total)
    return total


def _warm_up() -> None:
    from ..upstream._litellm import litellm

    litellm.token_counter(model="gpt-4o", text="warm up")


async def start_tokenizer(runtime: Host) -> None:
    """Import LiteLLM and load a tokenizer in the background, started with the app.

    The first prefix count would otherwise pay the seconds-long import on the request
    path. Not awaited: start-up does not wait, and a failure only leaves the lazy path.
    A daemon thread, so a server stopped during the import exits at once rather than
    waiting for it (an executor thread would hold interpreter exit for the whole import).
    """
    done = asyncio.get_running_loop().create_future()

    def finished() -> None:
        if runtime.settings.proxy.freeze_heap:
            _freeze_heap()
        if not done.done():
            done.set_result(None)

    def run() -> None:
        with contextlib.suppress(BaseException):
            _warm_up()
        with contextlib.suppress(RuntimeError):  # the loop closed first: nobody waits any more
            done.get_loop().call_soon_threadsafe(finished)

    threading.Thread(target=run, name="layercache-tokenizer-warm-up", daemon=True).start()
    runtime.on_close(lambda: _settle(done))


_frozen = False


def _freeze_heap() -> None:
    """Move every object alive now out of the cyclic collector's sight (``gc.freeze``), once per process.

    LiteLLM's import leaves hundreds of thousands of objects that live as long as the process;
    every full collection walked them all again (about 0.4 ms a request, amortised, and a pause
    of the event loop of up to a second each time). Only cyclic garbage already present at this
    moment is never reclaimed: start-up leaves little of it.
    """
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


async def _settle(done: asyncio.Future[None]) -> None:
    # A thread cannot be cancelled; closing waits a moment so a nearly finished import ends cleanly.
    with contextlib.suppress(BaseException):
        await asyncio.wait_for(asyncio.shield(done), 1)
