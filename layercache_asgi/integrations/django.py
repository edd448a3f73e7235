"""LayerCacheApp in a Django project, configured from Django's settings.

In ``settings.py``, ``LAYERCACHE`` is the configuration: a dict in the shape of
``layercache.yaml``, or the path of such a file (absent: ``$LAYERCACHE_CONFIG``, then
``./layercache.yaml``, then defaults). In ``asgi.py``::

    from layercache_asgi.integrations.django import get_asgi_application_with_layercache

    application = get_asgi_application_with_layercache("/llm")

Django never sees ``/llm/...`` requests nor lifespan events (it rejects them); the
proxy gets both, so it starts with the server and closes cleanly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from .._app import LayerCacheApp
from .._config import Settings
from ._mount import MountDispatcher

__all__ = ["SETTING_NAME", "get_asgi_application_with_layercache", "layercache_app", "layercache_settings"]

SETTING_NAME = "LAYERCACHE"


def layercache_settings() -> Settings | str | os.PathLike[str] | None:
    """What ``settings.LAYERCACHE`` says, in the form :class:`LayerCacheApp` takes.

    A dict is validated now (it is already in memory); a path is read when the app starts.
    """
    from django.conf import settings  # type: ignore[import-untyped]

    value: Any = getattr(settings, SETTING_NAME, None)
    if value is None or isinstance(value, Settings | str | os.PathLike):
        return value
    if isinstance(value, Mapping):
        return Settings.model_validate(dict(value))
    raise TypeError(f"settings.{SETTING_NAME} must be a dict or a file path, not {type(value).__name__}")


def layercache_app(*, stages: Sequence[Any] | None = None) -> LayerCacheApp:
    """A :class:`LayerCacheApp` configured from ``settings.LAYERCACHE``."""
    return LayerCacheApp(layercache_settings(), stages=stages)


def get_asgi_application_with_layercache(prefix: str = "/llm", llm: Any = None) -> MountDispatcher:
    """Django's ASGI application with LayerCacheApp (or ``llm``) mounted at ``prefix``."""
    from django.core.asgi import get_asgi_application  # type: ignore[import-untyped]

    django_app = get_asgi_application()  # sets Django up, so settings.LAYERCACHE can be read
    return MountDispatcher(prefix, llm if llm is not None else layercache_app(), django_app)
