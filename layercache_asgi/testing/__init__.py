"""Test doubles shipped as public API: a fake provider and a way to serve apps locally.

Use ``from layercache_asgi.testing import FakeProvider, FakeGemini, PrefixCacheSimulator, in_process, serve``.
"""

from __future__ import annotations

from ._asgi import read_body
from ._fake_gemini import FakeGemini
from ._fake_provider import FakeProvider, RecordedRequest, count_tokens
from ._in_process import in_process
from ._prefix_cache_sim import PrefixCacheSimulator
from ._server import serve

__all__ = [
    "FakeGemini",
    "FakeProvider",
    "PrefixCacheSimulator",
    "RecordedRequest",
    "count_tokens",
    "in_process",
    "read_body",
    "serve",
]
