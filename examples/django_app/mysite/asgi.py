"""ASGI entry point: /llm/... goes to layercache-asgi, everything else to Django.

Run from the repository root::

    uvicorn --app-dir examples/django_app mysite.asgi:application --port 8000

The dispatcher behaves like Starlette's ``Mount`` (``root_path`` gains ``/llm``, so the
proxy's links stay under it) and takes the server's lifespan events for the proxy,
since Django rejects them.
"""

from __future__ import annotations

import os

from layercache_asgi.integrations import MountDispatcher
from layercache_asgi.integrations.django import get_asgi_application_with_layercache

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")


def build_application() -> MountDispatcher:
    """Django with the proxy at /llm, configured from ``settings.LAYERCACHE``."""
    return get_asgi_application_with_layercache("/llm")


application = build_application()
