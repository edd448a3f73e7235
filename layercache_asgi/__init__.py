"""layercache-asgi: an LLM caching proxy as a mountable ASGI application.

    from layercache_asgi import LayerCacheApp
    app.mount("/llm", LayerCacheApp())

or standalone: ``uvicorn layercache_asgi:app``. Importing this package does no I/O
and imports neither LiteLLM nor fastembed.
"""

from __future__ import annotations

from typing import Any

from ._app import LayerCacheApp
from ._config import ConfigError, Settings, load_settings
from ._errors import LayerCacheError, ProxyError, SchemaError
from ._exchange import Exchange, Outcome, PrefixCheck, Saved, get_exchange
from ._request import ChatRequest, LcExtensions
from ._version import __version__
from .stages import DEFAULT_STAGES, build_stack
from .wire._completion import Completion, ToolCall, Usage

__all__ = [
    "DEFAULT_STAGES",
    "ChatRequest",
    "Completion",
    "ConfigError",
    "Exchange",
    "LayerCacheApp",
    "LayerCacheError",
    "LcExtensions",
    "Outcome",
    "PrefixCheck",
    "ProxyError",
    "Saved",
    "SchemaError",
    "Settings",
    "ToolCall",
    "Usage",
    "__version__",
    "app",
    "build_stack",
    "get_exchange",
    "load_settings",
]

_app: LayerCacheApp | None = None


def __getattr__(name: str) -> Any:
    # ``uvicorn layercache_asgi:app``: built on first access, configured at start-up.
    global _app
    if name == "app":
        if _app is None:
            _app = LayerCacheApp()
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
