"""Test doubles shipped as public API: a fake provider and a way to serve apps locally.

Use ``from layercache_asgi.testing import FakeProvider, serve``.
"""

from __future__ import annotations

from ._fake_provider import FakeProvider, RecordedRequest, count_tokens
from ._server import serve

__all__ = ["FakeProvider", "RecordedRequest", "count_tokens", "serve"]
