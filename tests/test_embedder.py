"""The embedder: real local model, lazy load, off the event loop, clean failure."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from layercache_asgi._embedder import Embedder, EmbedderUnavailable
from tests.conftest import MODEL_DIR


@pytest.fixture
async def embedder() -> Embedder:
    return Embedder(model_path=str(MODEL_DIR))


def test_constructing_does_no_work() -> None:
    embedder = Embedder("no-such/model", model_path="/nonexistent")
    assert embedder.dim is None
    assert embedder.available


def test_importing_the_package_loads_neither_fastembed_nor_the_model() -> None:
    code = "import sys, layercache_asgi, layercache_asgi._embedder; print('fastembed' in sys.modules)"
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
