"""``import layercache_asgi`` stays cheap: what only some requests or features need loads when first needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("sqlalchemy", "numpy", "litellm", "fastembed", "alembic", "onnxruntime", "tokenizers")


def _loaded_after(code: str) -> set[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_import_loads_no_heavy_library() -> None:
    loaded = _loaded_after("import layercache_asgi")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    assert "layercache_asgi" in loaded


def test_building_the_stage_stack_loads_no_heavy_library() -> None:
    """The request path's stages bring neither the database nor the model: those load with the runtime."""
    loaded = _loaded_after("from layercache_asgi import build_stack, DEFAULT_STAGES\nbuild_stack(DEFAULT_STAGES)")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_semantic_names_still_import_from_the_package() -> None:
    loaded = _loaded_after("from layercache_asgi.semantic import SemanticCacheService, cache_key, Verdict")
    assert "numpy" in loaded  # the service brings what it needs when it is asked for


def test_the_heap_the_litellm_import_leaves_is_frozen_once_it_is_loaded(tmp_path: Path) -> None:
    """LiteLLM's objects live as long as the process: the cyclic collector stops walking them
    (each full collection took up to a second of the event loop, a few times a thousand requests)."""
    code = f"""
import asyncio, gc, sys, time
from layercache_asgi import LayerCacheApp, Settings
async def main():
    before = gc.get_freeze_count()
    app = LayerCacheApp(Settings.model_validate({{"database": {{"url": "sqlite+aiosqlite:///{tmp_path}/a.db"}}}}))
    await app.startup()
    deadline = time.monotonic() + 120
    while gc.get_freeze_count() == before and time.monotonic() < deadline:
        await asyncio.sleep(0.05)  # the tokenizer warm-up imports LiteLLM in the background
    print(before, gc.get_freeze_count(), "litellm" in sys.modules, len(gc.get_objects()))
    await app.shutdown()
asyncio.run(main())
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    before, frozen, litellm_loaded, tracked = out.stdout.split()[-4:]
    assert before == "0" and litellm_loaded == "True"
    assert int(frozen) > 100_000  # LiteLLM's import alone is several hundred thousand objects
    assert int(tracked) < int(frozen)  # what the collector still walks: what came after


def test_freeze_heap_off_leaves_the_collector_alone(tmp_path: Path) -> None:
    code = f"""
import asyncio, gc, sys, threading
from layercache_asgi import LayerCacheApp, Settings
async def main():
    app = LayerCacheApp(Settings.model_validate({{
        "database": {{"url": "sqlite+aiosqlite:///{tmp_path}/a.db"}}, "proxy": {{"freeze_heap": False}}}}))
    await app.startup()
    warm_up = [t for t in threading.enumerate() if t.name == "layercache-tokenizer-warm-up"]
    while any(t.is_alive() for t in warm_up):
        await asyncio.sleep(0.05)
    for _ in range(20):
        await asyncio.sleep(0.01)  # the thread's hand-back to the loop runs
    print(len(warm_up), gc.get_freeze_count(), "litellm" in sys.modules)
    await app.shutdown()
asyncio.run(main())
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    threads, frozen, litellm_loaded = out.stdout.split()[-3:]
    assert threads == "1" and litellm_loaded == "True"
    assert frozen == "0"
