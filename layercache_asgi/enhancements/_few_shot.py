"""dynamic_few_shot: the ``top_k`` examples closest to the newest input, by embedding.

Examples come from ``enhancements.few_shot_examples`` (a JSON or YAML list of
``{"input": ..., "output": ...}``, or ``{"examples": [...]}``). Their embeddings are
computed once per file version; ranking runs off the event loop.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
import yaml

from .._errors import ProxyError
from ..prompt._state import prompt_state
from ..wire._content import content_text
from ._registry import Addition

if TYPE_CHECKING:
    from .._config import Host
    from .._exchange import Exchange
    from ..semantic._embedder import Embedder

__all__ = ["dynamic_few_shot", "load_examples", "newest_input_text", "start_few_shot"]

log = structlog.get_logger("layercache.enhance")


@dataclass(frozen=True)
class Example:
    input: str
    output: str


@dataclass
class _Bank:
    version: tuple[str, float, int]
    examples: list[Example]
    vectors: Any  # np.ndarray, rows L2-normalised


class _FewShotState:
    """Per app (in its prompt state): the loaded examples, and an embedder when the semantic cache has none."""

    def __init__(self) -> None:
        self.embedder: Embedder | None = None
        self.bank: _Bank | None = None
        self.lock = asyncio.Lock()


def load_examples(path: Path) -> list[Example]:
    """Read an examples file; raise ValueError when it is not a list of input/output pairs."""
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    items = doc.get("examples") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a list of examples")
    examples = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("input"), str) or "output" not in item:
            raise ValueError(f"{path}: example {i} needs 'input' (text) and 'output'")
        output = item["output"]
        examples.append(Example(item["input"], output if isinstance(output, str) else json.dumps(output)))
    return examples


def newest_input_text(exchange: Exchange) -> str:
    """The text of the newest user input (L4), what examples are matched against."""
    layers = exchange.layers
    if exchange.request.wire == "responses" and isinstance(exchange.request.body.get("input"), str):
        return str(exchange.request.body["input"])
    messages = exchange.request.messages
    indices = layers.messages_in(4) if layers is not None else [len(messages) - 1]
    texts = [content_text(messages[i].get("content"), "\n") for i in indices]
    return "\n".join(t for t in texts if t)


def _embedder(exchange: Exchange) -> Embedder:
    semantic = exchange.runtime.semantic
    if semantic is not None:
        return semantic.embedder
    state = prompt_state(exchange).part(_FewShotState)
    if state.embedder is None:
        from ..semantic._embedder import Embedder

        settings = exchange.settings.caching.semantic
        state.embedder = Embedder(settings.model, settings.model_path)
        exchange.runtime.on_close(state.embedder.close)
    return state.embedder


async def _bank(exchange: Exchange, path: Path, embedder: Embedder) -> _Bank:
    state = prompt_state(exchange).part(_FewShotState)
    stat = await asyncio.to_thread(path.stat)
    version = (str(path), stat.st_mtime, stat.st_size)
    bank = state.bank
    if bank is not None and bank.version == version:
        return bank
    async with state.lock:
        bank = state.bank
        if bank is not None and bank.version == version:
            return bank
        examples = await asyncio.to_thread(load_examples, path)
        vectors = await embedder.embed([e.input for e in examples])
        state.bank = bank = _Bank(version, examples, vectors)
        return bank


def _rank(vectors: Any, query: Any, k: int) -> list[int]:
    import numpy as np  # lazy: importing the package stays cheap

    scores = vectors @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return [int(i) for i in order]


async def dynamic_few_shot(exchange: Exchange, options: dict[str, Any]) -> Addition:
    top_k = options.get("top_k", exchange.settings.enhancements.few_shot_top_k)
    if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
        raise ProxyError(400, "dynamic_few_shot option 'top_k' must be a positive integer", param="lc_enhancements")
    source = exchange.settings.enhancements.few_shot_examples
    query = newest_input_text(exchange)
    # Not a fault: said once at start (start_few_shot) and to the client in a response header.
    if not source:
        return Addition(skipped="no examples configured")
    if not query:
        return Addition(skipped="no user input")
    embedder = _embedder(exchange)
    try:
        bank = await _bank(exchange, Path(source), embedder)
        if not bank.examples:
            return Addition(skipped="the examples file is empty")
        query_vector = (await embedder.embed([query]))[0]
    except Exception as exc:  # a missing file or model degrades to no examples, never a failed request
        log.warning("few_shot_unavailable", error=type(exc).__name__, detail=str(exc)[:200])
        return Addition()
    chosen = await asyncio.to_thread(_rank, bank.vectors, query_vector, top_k)
    shots = "\n\n".join(f"Input: {bank.examples[i].input}\nOutput: {bank.examples[i].output}" for i in chosen)
    return Addition(text=f"Examples of good answers:\n\n{shots}")


async def start_few_shot(runtime: Host) -> None:
    """Say once, at start, that dynamic_few_shot has nothing to pick from (info: not a fault)."""
    if not runtime.settings.enhancements.few_shot_examples:
        detail = "dynamic_few_shot adds nothing: enhancements.few_shot_examples is not set"
        log.info("few_shot_unconfigured", detail=detail)
