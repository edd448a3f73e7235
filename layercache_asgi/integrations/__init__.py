"""Hosting LayerCacheApp inside other frameworks.

:func:`mount_asgi` puts any ASGI app under a path prefix in front of another, the way
Starlette's ``Mount`` does, for hosts without such routing (Django).
``layercache_asgi.integrations.django`` builds the app from Django's settings.
"""

from __future__ import annotations

from ._mount import MountDispatcher, mount_asgi

__all__ = ["MountDispatcher", "mount_asgi"]
