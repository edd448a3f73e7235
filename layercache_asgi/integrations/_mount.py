"""Dispatch a path prefix to one ASGI app and everything else to another.

It behaves like Starlette's ``Mount``: ``path`` is left whole and the prefix is added to
``root_path``, so the mounted app routes on ``path`` minus ``root_path`` and builds its
links from ``root_path``. (Channels' ``URLRouter`` strips the path and leaves
``root_path`` alone, which breaks every link the mounted app makes.)
"""

from __future__ import annotations

from .._types import ASGIApp, Receive, Scope, Send

__all__ = ["MountDispatcher", "mount_asgi"]


class MountDispatcher:
    """``prefix`` (and everything below it) goes to ``app``; all other traffic to ``fallback``.

    Lifespan events go to ``app`` only: the fallback is a framework that may reject them
    (Django raises on a lifespan scope), while the mounted app (LayerCacheApp) uses them
    to start eagerly and close cleanly.
    """

    def __init__(self, prefix: str, app: ASGIApp, fallback: ASGIApp) -> None:
        if not prefix.startswith("/") or prefix == "/":
            raise ValueError(f"mount prefix must start with '/' and not be the root: {prefix!r}")
        self.prefix = prefix.rstrip("/")
        self.app = app
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] in ("http", "websocket") and self._matches(scope):
            root_path = scope.get("root_path", "")
            child = dict(scope)
            child["root_path"] = root_path + self.prefix
            child.setdefault("app_root_path", root_path)
            await self.app(child, receive, send)
            return
        await self.fallback(scope, receive, send)

    def _matches(self, scope: Scope) -> bool:
        path: str = scope["path"]
        root_path: str = scope.get("root_path", "")
        # The path relative to where this dispatcher itself is mounted (Starlette's get_route_path).
        if root_path and path.startswith(root_path) and path[len(root_path) : len(root_path) + 1] in ("", "/"):
            path = path[len(root_path) :]
        return path == self.prefix or path.startswith(self.prefix + "/")


def mount_asgi(prefix: str, app: ASGIApp, fallback: ASGIApp) -> MountDispatcher:
    """Serve ``app`` under ``prefix`` and ``fallback`` everywhere else.

    In a Django project's ``asgi.py``::

        application = mount_asgi("/llm", LayerCacheApp(), get_asgi_application())
    """
    return MountDispatcher(prefix, app, fallback)
