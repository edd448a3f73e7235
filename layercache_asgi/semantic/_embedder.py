"""Sentence embeddings with fastembed, loaded lazily and run off the event loop.

Import is free: fastembed and the model load on the first :meth:`Embedder.embed` (or
:meth:`Embedder.load`). Inference runs in one dedicated worker thread (onnxruntime
releases the GIL), never in a forked process pool: forking a process that already runs
threads can deadlock.

Calls that arrive while the model is busy are micro-batched: they queue, and the next
model call embeds everything queued (up to :data:`MAX_BATCH` texts) at once. An idle
embedder adds no delay; under load, one call per batch replaces one call per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import structlog

from .._errors import LayerCacheError

__all__ = ["DEFAULT_EMBEDDING_MODEL", "MAX_BATCH", "Embedder", "EmbedderUnavailable"]

DEFAULT_EMBEDDING_MODEL = "BAAI/bge-small-en-v1.5"
# Texts per model call: bigger batches barely lower the cost per text of short questions,
# and long texts in big batches blow up onnxruntime's memory.
MAX_BATCH = 16
# One intra-op thread: the event loop needs the other core, and onnxruntime's spinning
# pool threads cost several times the inference itself when they compete for a core.
_ONNX_THREADS = 1

Rows = np.ndarray[Any, np.dtype[np.float32]]

log = structlog.get_logger("layercache.embedder")

# fastembed keeps custom models in a process-wide registry; register each folder once.
_registry_lock = threading.Lock()


class EmbedderUnavailable(LayerCacheError, RuntimeError):
    """The embedding model could not be loaded; the semantic cache should turn itself off."""


class Embedder:
    """Embeds texts into float32, L2-normalised rows.

    ``model_name`` is a fastembed model name. With ``model_path`` the model is read from
    that local folder (ONNX file + tokenizer) and nothing is downloaded: a folder holding
    the named model's own ONNX file is loaded as that model; any other folder is loaded
    as a mean-pooled sentence-transformers export, its dimension read from ``config.json``.
    """

    def __init__(self, model_name: str = DEFAULT_EMBEDDING_MODEL, model_path: str | None = None) -> None:
        self.model_name = model_name
        self.model_path = model_path
        self.dim: int | None = None
        self._model: Any = None
        self._failure: str | None = None
        self._load_lock: asyncio.Lock | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._queue: deque[tuple[list[str], asyncio.Future[Rows]]] = deque()
        self._batcher: asyncio.Task[None] | None = None

    @property
    def ready(self) -> bool:
        """True once the model is loaded (embedding will not wait for a load or download)."""
        return self._model is not None

    @property
    def available(self) -> bool:
        """False once loading has failed (it is not retried)."""
        return self._failure is None

    async def load(self) -> None:
        """Load the model now (otherwise the first :meth:`embed` does). Raises :class:`EmbedderUnavailable`."""
        if self._model is not None:
            return
        if self._failure is not None:
            raise EmbedderUnavailable(self._failure)
        if self._load_lock is None:
            self._load_lock = asyncio.Lock()
        async with self._load_lock:
            if self._model is not None:
                return
            if self._failure is not None:
                raise EmbedderUnavailable(self._failure)
            try:
                self._model = await asyncio.get_running_loop().run_in_executor(self._pool(), self._load_sync)
            except Exception as exc:
                self._failure = f"{type(exc).__name__}: {str(exc)[:300]}"
                log.warning(
                    "embedding_model_unavailable",
                    model=self.model_name,
                    model_path=self.model_path,
                    error=self._failure,
                    effect="semantic cache disabled; requests are proxied uncached",
                )
                raise EmbedderUnavailable(self._failure) from exc

    async def embed(self, texts: list[str]) -> Rows:
        """One float32, L2-normalised row per text (shape ``(len(texts), dim)``).

        Batched with the other calls waiting for the model, so a row may differ very
        slightly (int8 models) from the same text embedded alone.
        """
        await self.load()
        if not texts:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Rows] = loop.create_future()
        self._queue.append((list(texts), future))
        if self._batcher is None or self._batcher.done() or self._batcher.get_loop() is not loop:
            self._batcher = loop.create_task(self._run_batches())
        return await future

    async def _run_batches(self) -> None:
        """Embed what is queued, one model call per batch, until the queue is empty."""
        loop = asyncio.get_running_loop()
        while self._queue:
            jobs = [self._queue.popleft()]
            size = len(jobs[0][0])
            while self._queue and size + len(self._queue[0][0]) <= MAX_BATCH:
                jobs.append(self._queue.popleft())
                size += len(jobs[-1][0])
            jobs = [(texts, future) for texts, future in jobs if not future.done()]  # callers gone
            if not jobs:
                continue
            texts = [text for job_texts, _ in jobs for text in job_texts]
            try:
                rows = await loop.run_in_executor(self._pool(), self._embed_sync, texts)
            except asyncio.CancelledError:
                for _, future in jobs:
                    future.cancel()
                raise
            except Exception as exc:
                for _, future in jobs:
                    if not future.done():
                        future.set_exception(exc)
                continue
            start = 0
            for job_texts, future in jobs:
                if not future.done():
                    future.set_result(rows[start : start + len(job_texts)])
                start += len(job_texts)

    async def close(self) -> None:
        batcher, self._batcher = self._batcher, None
        if batcher is not None and not batcher.done():
            batcher.cancel()
            with contextlib.suppress(BaseException):
                await batcher
        while self._queue:
            _, future = self._queue.popleft()
            if not future.done():
                future.set_exception(EmbedderUnavailable("the embedder was closed"))
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    # -- worker thread ----------------------------------------------------------------------

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="layercache-embed")
        return self._executor

    def _load_sync(self) -> Any:
        from fastembed import TextEmbedding

        if self.model_path is None:
            model = TextEmbedding(model_name=self.model_name, threads=_ONNX_THREADS)
        else:
            folder = Path(self.model_path).expanduser().resolve()
            if not folder.is_dir():
                raise FileNotFoundError(f"model_path {str(folder)!r} is not a folder")
            name = _local_model_name(TextEmbedding, self.model_name, folder)
            model = TextEmbedding(model_name=name, specific_model_path=str(folder), threads=_ONNX_THREADS)
        probe = np.asarray(next(iter(model.embed(["probe"]))), dtype=np.float32)
        self.dim = int(probe.shape[-1])
        return model

    def _embed_sync(self, texts: list[str]) -> Rows:
        rows: Rows = np.asarray(list(self._model.embed(texts, batch_size=MAX_BATCH)), dtype=np.float32)
        # In place: ``rows`` is a fresh array, float32 already (no divide-then-astype copies).
        rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), np.float32(1e-12))
        return rows


def _local_model_name(text_embedding: Any, model_name: str, folder: Path) -> str:
    """The fastembed model name to load ``folder`` as, registering a custom model if needed."""
    known = {m["model"].lower(): m for m in text_embedding.list_supported_models()}
    described = known.get(model_name.lower())
    if described is not None and (folder / described["model_file"]).is_file():
        return model_name
    from fastembed.common.model_description import ModelSource, PoolingType

    model_file = _onnx_file(folder)
    name = "layercache-local/" + hashlib.sha256(f"{folder}\x00{model_file}".encode()).hexdigest()[:16]
    with _registry_lock:
        if name.lower() not in known:
            text_embedding.add_custom_model(
                model=name,
                pooling=_pooling(folder, PoolingType),
                normalization=True,
                sources=ModelSource(hf="local/unused"),  # never fetched: specific_model_path wins
                dim=_hidden_size(folder),
                model_file=model_file,
            )
    return name


def _onnx_file(folder: Path) -> str:
    for candidate in ("model.onnx", "model_optimized.onnx", "onnx/model.onnx"):
        if (folder / candidate).is_file():
            return candidate
    found = sorted(folder.rglob("*.onnx"))
    if not found:
        raise FileNotFoundError(f"no .onnx file in {str(folder)!r}")
    return found[0].relative_to(folder).as_posix()


def _hidden_size(folder: Path) -> int:
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return int(config.get("hidden_size") or config["dim"])


def _pooling(folder: Path, pooling_type: Any) -> Any:
    # sentence-transformers exports say how they pool; without that, mean pooling is their default.
    pooling_config = folder / "1_Pooling" / "config.json"
    if pooling_config.is_file():
        config = json.loads(pooling_config.read_text(encoding="utf-8"))
        if config.get("pooling_mode_cls_token"):
            return pooling_type.CLS
    return pooling_type.MEAN
