"""What every dashboard request goes through: the session, the auth rule, CSRF, rendering.

Rules: without an admin key (``proxy.admin_api_key`` or ``$LAYERCACHE_ADMIN_KEY``) the
dashboard is off: every page is a 403 saying how to turn it on. With one, every page but
the login page needs a session logged in with that key (client keys never open it). Every
POST needs the session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``)
and, when the browser sends an ``Origin``, the dashboard's own origin (see ``_origin``).
Failed logins count in the app's limiter of failed authentications (``_auth``). Links are
built from ``root_path``, so the dashboard works under any mount prefix.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from starlette.datastructures import FormData
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

from .._auth import admin_key, admin_off
from .._config import Settings
from .._errors import ProxyError
from .._runtime import Runtime
from ._origin import origin_allowed
from ._session import Session, SessionSigner

__all__ = ["Dashboard", "View"]

TEMPLATES = Path(__file__).parent / "templates"
_HEADERS = {
    # No inline script or style anywhere: the pages load only their own static files.
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


def _usd(value: float | None) -> str:
    # Net savings can be negative: keep the sign visible.
    value = float(value or 0.0)
    sign = "-" if value < 0 else ""
    digits = 2 if abs(value) >= 100 else 4 if abs(value) >= 0.01 else 6
    return f"{sign}${abs(value):,.{digits}f}"


def _pct(value: float | None) -> str:
    return "\u2013" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return f"{int(value or 0):,}"


@dataclass
class View:
    """One dashboard request, as the page handlers see it."""

    request: Request
    runtime: Runtime
    settings: Settings
    session: Session
    base: str  # e.g. "/llm/dashboard": prefix of every dashboard link
    root: str  # e.g. "/llm": where the LayerCacheApp is mounted
    can_write: bool
    csrf: str
    new_session: Session | None = field(default=None)

    async def _parsed_form(self) -> FormData:
        """The posted form, received within the body limits; a ProxyError (413, 408, 400) otherwise."""
        limits = self.settings.proxy
        declared = self.request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limits.max_body_bytes:
            raise ProxyError(413, f"The form is larger than {limits.max_body_bytes} bytes.")
        try:
            async with asyncio.timeout(limits.body_timeout_seconds):
                # Starlette caps each field at 1 MB and says so with MultiPartException.
                return await self.request.form()
        except MultiPartException as exc:
            status = 413 if "maximum size" in exc.message else 400
            raise ProxyError(status, f"The form was refused: {exc.message}") from None
        except TimeoutError:
            raise ProxyError(408, "The form did not arrive in time.") from None

    async def form(self) -> dict[str, str]:
        form = await self._parsed_form()
        return {k: v for k, v in form.items() if isinstance(v, str)}

    async def upload(self, name: str, limit: int) -> str | None:
        """The text of the uploaded file ``name``; None when none was chosen. ValueError if too big or not UTF-8."""
        upload = (await self._parsed_form()).get(name)
        if isinstance(upload, str) or upload is None or not upload.filename:
            return None
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise ValueError(f"{upload.filename} is larger than {limit} bytes")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{upload.filename} is not UTF-8 text") from None


Handler = Callable[[View], Awaitable[Response]]


class Dashboard:
    """Shared state of one app's dashboard: the signer, the template environment, the app."""

    def __init__(self, get_runtime: Callable[[], Runtime], app: Any) -> None:
        self.get_runtime = get_runtime
        self.app = app
        self.signer = SessionSigner(lambda: get_runtime().auth.sessions)

    @functools.cached_property
    def env(self) -> jinja2.Environment:
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
        env.filters.update(usd=_usd, pct=_pct, num=_num)
        return env

    def render(self, view: View, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(
            base=view.base,
            root=view.root,
            static=f"{view.base}/static",
            csrf=view.csrf,
            can_write=view.can_write,
            authenticated=view.session.authenticated,
            page=template.removesuffix(".html"),
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def page(self, handler: Handler, *, write: bool = False, public: bool = False, data: bool = False) -> Any:
        """Wrap a handler with the session, auth and CSRF rules."""

        async def endpoint(request: Request) -> Response:
            runtime = self.get_runtime()
            settings = runtime.settings
            if not settings.dashboard.enabled:
                return PlainTextResponse("Not Found", status_code=404)
            view = self._view(request, runtime, settings)
            if admin_key(settings) is None:  # secure by default: nothing here until an admin key is set
                off = admin_off(settings)
                view.new_session = None  # no cookie either: there is nothing to log in to
                response: Response = (
                    JSONResponse({"error": off}, status_code=403)
                    if data or request.method != "GET"
                    else self.render(view, "off.html", 403, reason=off, env=settings.proxy.admin_api_key_env)
                )
            elif not public and not view.session.authenticated:
                response = (
                    JSONResponse({"error": "log in first"}, status_code=401)
                    if data or request.method != "GET"
                    else RedirectResponse(f"{view.base}/login", status_code=303)
                )
            else:
                response = await self._handle(view, handler, write=write)
            if view.new_session is not None:  # a first visit, a login or a logout
                self.signer.write(response, request, settings, view.new_session, view.base)
            response.headers.update(_HEADERS)
            return response

        return endpoint

    async def _handle(self, view: View, handler: Handler, *, write: bool) -> Response:
        try:
            if view.request.method == "POST" and not await self._post_allowed(view, write=write):
                message = "Refused: missing or invalid CSRF token, or a foreign origin."
                return self.render(view, "error.html", 403, message=message)
            return await handler(view)
        except ProxyError as exc:  # a form too large, malformed or too slow to arrive
            return self.render(view, "error.html", exc.status, message=exc.message)

    def _view(self, request: Request, runtime: Runtime, settings: Settings) -> View:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        session = self.signer.read(request, settings)
        fresh = session is None
        if session is None:
            session = self.signer.new(settings, authenticated=False)
        view = View(
            request=request,
            runtime=runtime,
            settings=settings,
            session=session,
            base=f"{root}/dashboard",
            root=root,
            can_write=session.authenticated,
            csrf=self.signer.csrf_token(settings, session),
        )
        if fresh:
            view.new_session = session
        return view

    async def _post_allowed(self, view: View, *, write: bool) -> bool:
        request = view.request
        origin = request.headers.get("origin")
        if origin and not origin_allowed(origin, request.headers, view.settings.dashboard.allowed_origins):
            return False
        token = request.headers.get("x-csrf-token") or (await view.form()).get("csrf_token")
        if view.new_session is not None:  # no session cookie came with it: nothing to tie a token to
            return False
        if not self.signer.csrf_ok(view.settings, view.session, token):
            return False
        return view.can_write or not write
