"""Test doubles shipped as public API: fake providers, and a proxy in front of them in-process or served.

Use ``from layercache_asgi.testing import FakeProvider, FakeGemini, PrefixCacheSimulator, in_process, serve``.
``in_process(fake, settings)`` is a client of a proxy whose upstream calls reach ``fake`` with no
socket; ``in_process({"primary.test": a, "backup.test": b}, settings)`` routes them by host (the
:class:`HostRouter` transport, usable on its own as ``LayerCacheApp(transport=HostRouter({...}))``),
so failover between providers is tested in-process too. ``serve(app)`` runs an app on a local port
for what needs a socket (the LiteLLM path, timing between stream chunks, clients that hang up).
"""

from __future__ import annotations

from ._asgi import read_body
from ._fake_gemini import FakeGemini
from ._fake_provider import FakeProvider, RecordedRequest, count_tokens
from ._in_process import in_process
from ._prefix_cache_sim import PrefixCacheSimulator
from ._server import serve
from ._transport import HostRouter

__all__ = [
    "FakeGemini",
    "FakeProvider",
    "HostRouter",
    "PrefixCacheSimulator",
    "RecordedRequest",
    "count_tokens",
    "in_process",
    "read_body",
    "serve",
]
