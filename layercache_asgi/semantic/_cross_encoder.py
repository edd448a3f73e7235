"""The shipped :class:`~._verifier.Verifier`: an ONNX cross-encoder run with onnxruntime.

A cross-encoder reads the two questions as one input (``[CLS] a [SEP] b [SEP]``) and gives
one score; duplicate-question models (trained on Quora question pairs, for instance) fit.
It needs ``model.onnx`` (any single ``*.onnx``) and the model's ``tokenizer.json`` (the
Hugging Face ``tokenizers`` format) in one folder. onnxruntime and tokenizers come with
fastembed, so this adds no dependency. Both load on first use, in the verifier's own worker
thread; inference runs there too, never on the event loop.

Output: one logit per pair is read through a sigmoid; two or more through a softmax, and the
last class is "the same question" (as in the usual duplicate/not-duplicate heads).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["OnnxCrossEncoder"]

# One intra-op thread: the event loop and the embedder need the other core.
_ONNX_THREADS = 1


class OnnxCrossEncoder:
    def __init__(self, model_path: str, *, max_length: int = 256) -> None:
        self.model_path = model_path
        self.max_length = max_length
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: list[str] = []
        self._executor: ThreadPoolExecutor | None = None

    async def load(self) -> None:
        if self._session is None:
            await asyncio.get_running_loop().run_in_executor(self._worker(), self._load)

    async def verify(self, query: str, candidate: str) -> float:
        await self.load()
        return await asyncio.get_running_loop().run_in_executor(self._worker(), self._score, query, candidate)

    async def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        self._session = None

    def _worker(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="layercache-verifier")
        return self._executor

    def _load(self) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        model, tokenizer_file = _files(Path(self.model_path))
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        tokenizer.enable_truncation(max_length=self.max_length)
        tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = _ONNX_THREADS
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in session.get_inputs()]
        unknown = set(self._inputs) - {"input_ids", "attention_mask", "token_type_ids"}
        if "input_ids" not in self._inputs or unknown:
            expected = "input_ids[, attention_mask, token_type_ids]"
            raise ValueError(f"{model.name}: expected inputs {expected}, got {self._inputs}")
        self._tokenizer, self._session = tokenizer, session

    def _score(self, query: str, candidate: str) -> float:
        encoding = self._tokenizer.encode(query, candidate)
        feed = {
            "input_ids": np.asarray([encoding.ids], dtype=np.int64),
            "attention_mask": np.asarray([encoding.attention_mask], dtype=np.int64),
            "token_type_ids": np.asarray([encoding.type_ids], dtype=np.int64),
        }
        (logits, *_rest) = self._session.run(None, {name: feed[name] for name in self._inputs})
        row = np.asarray(logits, dtype=np.float64).reshape(-1)
        if row.size == 1:
            return float(1.0 / (1.0 + np.exp(-row[0])))
        shifted = np.exp(row - row.max())
        return float(shifted[-1] / shifted.sum())


def _files(path: Path) -> tuple[Path, Path]:
    """(the ONNX model, its tokenizer.json) of a folder or of a model file."""
    if path.is_file():
        folder, model = path.parent, path
    else:
        folder = path
        models = sorted(path.glob("*.onnx")) if path.is_dir() else []
        chosen = next((m for m in models if m.name == "model.onnx"), models[0] if len(models) == 1 else None)
        if chosen is None:
            found = ", ".join(m.name for m in models) or "none"
            raise FileNotFoundError(f"{path}: expected model.onnx (or a single *.onnx file), found {found}")
        model = chosen
    tokenizer = folder / "tokenizer.json"
    if not tokenizer.is_file():
        raise FileNotFoundError(f"{tokenizer} is missing")
    return model, tokenizer
