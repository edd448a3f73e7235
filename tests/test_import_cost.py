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
