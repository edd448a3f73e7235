"""Dashboard sessions and CSRF tokens: an HMAC-signed cookie and a synchronizer token tied to it.

Every visitor gets a session (anonymous until logged in) so even the login form
carries a CSRF token. The signing secret is ``dashboard.session_secret`` or, when
unset, random per app instance: never a fixed default. A session also records a
fingerprint of the admin key it logged in with, so changing the key logs everyone out.
Logging out revokes the session on the server (its id is refused until it would have
expired), so a copied cookie dies with the logout; each replica keeps its own list.
The cookie is ``Secure`` over https, seen directly or through a trusted proxy's
``X-Forwarded-Proto``, or always with ``dashboard.secure_cookies``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from .._auth import RevokedSessions, admin_key
from .._config import Settings
from .._forwarded import forwarded_https

__all__ = ["COOKIE", "Session", "SessionSigner"]

COOKIE = "layercache_dashboard"
_LIFETIME = 12 * 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Session:
    sid: str
    authenticated: bool
    key_fingerprint: str
    expires: int


def key_fingerprint(settings: Settings) -> str:
    key = admin_key(settings)
    if key is None:
        return ""
    return hashlib.sha256(b"layercache-dashboard\x00" + key.encode()).hexdigest()[:16]


class SessionSigner:
    """Signs and checks session cookies and CSRF tokens for one app."""

    def __init__(self, revoked: Callable[[], RevokedSessions]) -> None:
        self._random: bytes | None = None
        self._revoked = revoked  # the app's logged-out sessions (shared with the other replicas)

    def revoke(self, session: Session) -> None:
        """Refuse ``session`` from now on (a logout), on every replica; forgotten once it would have expired."""
        self._revoked().revoke(session.sid, session.expires)

    def _secret(self, settings: Settings) -> bytes:
        configured = settings.dashboard.session_secret
        if configured is not None:
            return configured.get_secret_value().encode()
        if self._random is None:
            self._random = secrets.token_bytes(32)
        return self._random

    def _mac(self, settings: Settings, purpose: str, payload: str) -> str:
        return _b64(hmac.new(self._secret(settings), f"{purpose}\x00{payload}".encode(), hashlib.sha256).digest())

    def new(self, settings: Settings, *, authenticated: bool) -> Session:
        return Session(
            secrets.token_urlsafe(18), authenticated, key_fingerprint(settings), int(time.time()) + _LIFETIME
        )

    def read(self, request: Request, settings: Settings) -> Session | None:
        """The request's valid session, or None (missing, forged, expired, revoked, or from another admin key)."""
        raw = request.cookies.get(COOKIE, "")
        payload, _, mac = raw.partition(".")
        if not payload or not hmac.compare_digest(mac, self._mac(settings, "session", payload)):
            return None
        try:
            doc = json.loads(_unb64(payload))
            session = Session(str(doc["sid"]), bool(doc["auth"]), str(doc["key"]), int(doc["exp"]))
        except (ValueError, KeyError, TypeError):
            return None
        if session.expires < time.time() or session.key_fingerprint != key_fingerprint(settings):
            return None
        if session.sid in self._revoked():
            return None
        return session

    def write(self, response: Response, request: Request, settings: Settings, session: Session, path: str) -> None:
        doc = {
            "sid": session.sid,
            "auth": session.authenticated,
            "key": session.key_fingerprint,
            "exp": session.expires,
        }
        payload = _b64(json.dumps(doc, separators=(",", ":")).encode())
        response.set_cookie(
            COOKIE,
            f"{payload}.{self._mac(settings, 'session', payload)}",
            max_age=_LIFETIME,
            path=path,
            httponly=True,
            samesite="strict",
            secure=settings.dashboard.secure_cookies or forwarded_https(request.scope, settings),
        )

    def csrf_token(self, settings: Settings, session: Session) -> str:
        return self._mac(settings, "csrf", session.sid)

    def csrf_ok(self, settings: Settings, session: Session | None, token: str | None) -> bool:
        if session is None or not token:
            return False
        return hmac.compare_digest(token, self.csrf_token(settings, session))
