"""The embedder: real local model, lazy load, off the event loop, clean failure."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from layercache_asgi.semantic._embedder import MAX_BATCH, Embedder, EmbedderUnavailable
from tests.conftest import MODEL_DIR


@pytest.fixture
async def embedder() -> Embedder:
    return Embedder(model_path=str(MODEL_DIR))


def test_constructing_does_no_work() -> None:
    embedder = Embedder("no-such/model", model_path="/nonexistent")
    assert embedder.dim is None
    assert embedder.available


def test_importing_the_package_loads_neither_fastembed_nor_the_model() -> None:
    code = "import sys, layercache_asgi, layercache_asgi.semantic._embedder; print('fastembed' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_rows_are_float32_and_unit_length(embedder: Embedder) -> None:
    rows = await embedder.embed(["How do I reset my password?", "What's the capital of France?", ""])
    assert rows.dtype == np.float32
    assert rows.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert embedder.dim == 384


async def test_paraphrases_are_close_and_unrelated_texts_are_not(embedder: Embedder) -> None:
    a, b, c = await embedder.embed(
        ["How do I reset my password?", "What's the way to reset my password?", "Best pizza topping in Naples"]
    )
    assert float(a @ b) > 0.9
    assert float(a @ c) < 0.3


async def test_one_text_embeds_alike_alone_and_in_a_batch(embedder: Embedder) -> None:
    alone = (await embedder.embed(["Convert 50 GBP to JPY"]))[0]
    batch = await embedder.embed(["Convert 50 GBP to JPY", "a much longer sentence " * 10])
    assert float(alone @ batch[0]) > 0.98  # int8 vectors vary slightly with the batch


async def test_empty_list_gives_no_rows(embedder: Embedder) -> None:
    rows = await embedder.embed([])
    assert rows.shape[0] == 0


async def test_inference_runs_off_the_event_loop(embedder: Embedder) -> None:
    await embedder.load()
    loop_thread = threading.get_ident()
    seen: list[int] = []
    original = embedder._embed_sync

    def spy(texts: list[str]) -> np.ndarray:
        seen.append(threading.get_ident())
        return original(texts)

    embedder._embed_sync = spy  # type: ignore[method-assign]
    # The loop keeps ticking while the model works.
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        for _ in range(5):
            ticks += 1
            await asyncio.sleep(0)

    await asyncio.gather(embedder.embed(["a question about something"] * 8), tick())
    assert seen and all(t != loop_thread for t in seen)
    assert ticks == 5
    await embedder.close()


async def test_concurrent_first_calls_load_once(embedder: Embedder) -> None:
    loads = 0
    original = embedder._load_sync

    def counting() -> object:
        nonlocal loads
        loads += 1
        return original()

    embedder._load_sync = counting  # type: ignore[method-assign]
    results = await asyncio.gather(*(embedder.embed([f"question {i}"]) for i in range(4)))
    assert loads == 1
    assert all(r.shape == (1, 384) for r in results)


async def test_missing_model_raises_unavailable_once_and_stays_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    embedder = Embedder(model_path=str(tmp_path / "missing"))
    with pytest.raises(EmbedderUnavailable):
        await embedder.embed(["hello"])
    assert not embedder.available
    with pytest.raises(EmbedderUnavailable):  # not retried on every request
        await embedder.embed(["hello again"])
    out = capsys.readouterr()
    assert (out.out + out.err).count("embedding_model_unavailable") == 1


async def test_folder_without_onnx_file_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"hidden_size": 384}')
    with pytest.raises(EmbedderUnavailable, match="onnx"):
        await Embedder(model_path=str(tmp_path)).load()


async def test_two_embedders_on_one_folder_share_the_registration() -> None:
    first, second = Embedder(model_path=str(MODEL_DIR)), Embedder(model_path=str(MODEL_DIR))
    a = (await first.embed(["same text"]))[0]
    b = (await second.embed(["same text"]))[0]
    assert float(a @ b) > 0.999


QUESTIONS = [
    "How do I reset my password?",
    "What's the capital of France?",
    "Convert 50 GBP to JPY",
    "Explain what a Python generator is",
    "Who wrote Dune?",
    "How do I enable notifications?",
    "What is the boiling point of water at sea level?",
    "Summarize the plot of Hamlet in one sentence, please, and keep it short",
    "Name three prime numbers",
    "Why is the sky blue?",
]


async def test_concurrent_calls_are_batched_into_fewer_model_calls(embedder: Embedder) -> None:
    await embedder.load()
    batches: list[int] = []
    original = embedder._embed_sync

    def counting(texts: list[str]) -> np.ndarray:
        batches.append(len(texts))
        return original(texts)

    embedder._embed_sync = counting  # type: ignore[method-assign]
    rows = await asyncio.gather(*(embedder.embed([q]) for q in QUESTIONS))
    assert sum(batches) == len(QUESTIONS) and len(batches) < len(QUESTIONS)
    assert max(batches) <= MAX_BATCH
    assert all(r.shape == (1, 384) for r in rows)


async def test_a_batched_row_matches_the_same_text_embedded_alone(embedder: Embedder) -> None:
    alone = np.vstack([await embedder.embed([q]) for q in QUESTIONS])
    together = np.vstack(await asyncio.gather(*(embedder.embed([q]) for q in QUESTIONS)))
    # int8 models vary slightly with the batch (padding, quantisation ranges): close, not equal.
    np.testing.assert_allclose(np.sum(alone * together, axis=1), 1.0, atol=0.02)
    assert list(np.argmax(together @ alone.T, axis=1)) == list(range(len(QUESTIONS)))  # each row is its own text


async def test_more_queued_texts_than_a_batch_holds_are_split(embedder: Embedder) -> None:
    texts = [f"question number {i} about the weather" for i in range(2 * MAX_BATCH + 3)]
    rows = await asyncio.gather(*(embedder.embed([t]) for t in texts), embedder.embed(QUESTIONS))
    assert [r.shape[0] for r in rows] == [1] * len(texts) + [len(QUESTIONS)]
    last_alone, questions_alone = await embedder.embed([texts[-1]]), await embedder.embed(QUESTIONS)
    assert float(last_alone[0] @ rows[len(texts) - 1][0]) > 0.98  # every caller got its own rows back
    np.testing.assert_allclose(np.sum(questions_alone * rows[-1], axis=1), 1.0, atol=0.02)


async def test_a_caller_that_gives_up_leaves_the_others_their_rows(embedder: Embedder) -> None:
    await embedder.load()
    tasks = [asyncio.ensure_future(embedder.embed([q])) for q in QUESTIONS]
    await asyncio.sleep(0)
    tasks[3].cancel()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(done[3], asyncio.CancelledError)
    assert all(isinstance(r, np.ndarray) and r.shape == (1, 384) for i, r in enumerate(done) if i != 3)


async def test_a_failed_model_call_fails_only_its_own_callers(embedder: Embedder) -> None:
    await embedder.load()
    original = embedder._embed_sync
    running, release = threading.Event(), threading.Event()
    batches: list[list[str]] = []

    def flaky(texts: list[str]) -> np.ndarray:
        batches.append(texts)
        if len(batches) == 1:
            running.set()
            release.wait(10)
            raise RuntimeError("onnxruntime hiccup")
        return original(texts)

    embedder._embed_sync = flaky  # type: ignore[method-assign]
    first = asyncio.ensure_future(embedder.embed(["first"]))
    await asyncio.to_thread(running.wait, 10)
    queued = [asyncio.ensure_future(embedder.embed([text])) for text in ("second", "third")]
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(RuntimeError, match="hiccup"):
        await first
    rows = await asyncio.gather(*queued)
    assert batches == [["first"], ["second", "third"]]
    assert all(r.shape == (1, 384) for r in rows)
