"""Who is calling: client keys on the proxy routes, the admin key on the management routes, the tenant.

Two roles, never mixed. Client keys (``proxy.proxy_api_key`` and ``proxy.client_keys``)
open the proxy routes only; without any, the client's own provider key passes through
and, hashed, names its tenant. The admin key (``proxy.admin_api_key``, else the variable
named by ``proxy.admin_api_key_env``) opens the dashboard and the management APIs; without
one they are off. Every wrong key counts against the caller's address in one per-app
limiter, so no route lets a key be guessed at speed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Callable

from ._config import Settings
from ._errors import ProxyError
from ._forwarded import client_address
from ._types import Scope
from .dashboard._login_limit import LoginLimiter

__all__ = [
    "AuthGuard",
    "Caller",
    "RevokedSessions",
    "admin_key",
    "admin_off",
    "client_keys_configured",
    "identify",
    "presented_key",
]

FAILURES_PER_MINUTE = 10


class Caller:
    __slots__ = ("credential", "tenant")

    def __init__(self, tenant: str, credential: str | None) -> None:
        self.tenant = tenant
        self.credential = credential  # the provider key to pass through, if any


def presented_key(headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return headers.get("x-api-key") or headers.get("api-key") or None


def _tenant_id(value: str) -> str:
    # A hash, so the credential itself is never stored; long enough not to collide.
    return hashlib.sha256(b"layercache-tenant\x00" + value.encode()).hexdigest()[:32]


def _same(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode(), expected.encode())


def admin_key(settings: Settings) -> str | None:
    """The admin key in force: the setting, else its environment variable; None when neither is set."""
    proxy = settings.proxy
    if proxy.admin_api_key is not None:
        return proxy.admin_api_key.get_secret_value() or None
    return (os.environ.get(proxy.admin_api_key_env) or None) if proxy.admin_api_key_env else None


def admin_off(settings: Settings) -> str:
    """What a management route says while no admin key is set: which setting turns it on."""
    env = settings.proxy.admin_api_key_env
    where = "proxy.admin_api_key" + (f" (or the environment variable ${env})" if env else "")
    return f"the dashboard and the management routes are off: set {where} to turn them on"


def client_keys_configured(settings: Settings) -> bool:
    """Whether clients must present one of the proxy's own keys (else their provider key passes through)."""
    return settings.proxy.proxy_api_key is not None or bool(settings.proxy.client_keys)


def _client_keys(settings: Settings) -> list[tuple[str, str | None]]:
    """(key, bound tenant) for every client key with a value; a key_env that is unset opens nothing."""
    keys: list[tuple[str, str | None]] = []
    if settings.proxy.proxy_api_key is not None:
        keys.append((settings.proxy.proxy_api_key.get_secret_value(), None))
    for entry in settings.proxy.client_keys:
        value = entry.key.get_secret_value() if entry.key is not None else os.environ.get(entry.key_env or "", "")
        if value:
            keys.append((value, entry.tenant))
    return keys


def identify(headers: dict[str, str], settings: Settings) -> Caller:
    """Check the client key when any is set, and name the tenant whose cache this request may use.

    No rate limit here: routes go through :meth:`AuthGuard.client`, which adds it.
    """
    presented = presented_key(headers)
    if not client_keys_configured(settings):
        # Pass-through mode: the client's provider key is its identity.
        return Caller(_tenant_id("key:" + presented) if presented else "anonymous", presented)
    if presented is None:
        raise ProxyError(401, "Missing API key: send your client key as 'Authorization: Bearer' or 'x-api-key'.")
    matched: list[str | None] = []
    for value, tenant in _client_keys(settings):  # every key compared: the time says nothing about which
        if _same(presented, value):
            matched.append(tenant)
    if not matched:
        raise ProxyError(401, "Invalid API key.")
    if matched[0] is not None:  # a bound key: its tenant, whatever the headers say
        return Caller(_tenant_id("tenant:" + matched[0]), None)
    header = settings.proxy.tenant_header
    tenant = headers.get(header.lower()) if header else None
    return Caller(_tenant_id("tenant:" + tenant) if tenant else "default", None)


class RevokedSessions:
    """Dashboard sessions logged out before they expire, by a digest of their id (the id itself, half
    of a cookie, is never kept or sent anywhere). Replicas tell each other through ``on_revoke``."""

    def __init__(self, limit: int = 10_000) -> None:
        self._until: dict[str, int] = {}
        self._limit = limit
        self.on_revoke: Callable[[str, int], None] | None = None  # tells the other replicas (set by coord)

    @staticmethod
    def digest(sid: str) -> str:
        return hashlib.sha256(b"layercache-session\x00" + sid.encode()).hexdigest()[:32]

    def revoke(self, sid: str, expires: int) -> None:
        """Refuse this session from now on; forgotten once it would have expired anyway."""
        key = self.digest(sid)
        self.record(key, expires)
        if self.on_revoke is not None:
            self.on_revoke(key, expires)

    def record(self, key: str, expires: int) -> None:
        """A revocation by digest (this replica's, or one another replica announced)."""
        now = time.time()
        self._until = {k: exp for k, exp in self._until.items() if exp >= now}
        if len(self._until) >= self._limit:  # bounded: the soonest to expire go first
            for old in sorted(self._until, key=self._until.__getitem__)[: len(self._until) - self._limit + 1]:
                del self._until[old]
        self._until[key] = expires

    def __contains__(self, sid: object) -> bool:
        return isinstance(sid, str) and self.digest(sid) in self._until


class AuthGuard:
    """One app's key checks, with failed attempts limited per client address on every route."""

    def __init__(self, limiter: LoginLimiter | None = None) -> None:
        self.limiter = limiter or LoginLimiter(limit=FAILURES_PER_MINUTE, window=60.0)
        self.sessions = RevokedSessions()  # dashboard logouts, shared by replicas through coord

    def check_allowed(self, address: str) -> None:
        """A 429 (with Retry-After) while ``address`` is locked out: then not even the right key is tried."""
        if wait := self.limiter.retry_after(address):
            raise ProxyError(
                429,
                f"Too many failed authentications from your address. Try again in {wait} seconds.",
                headers={"retry-after": str(wait)},
            )

    def client(self, scope: Scope, headers: dict[str, str], settings: Settings) -> Caller:
        """A proxy route's caller (see :func:`identify`); a wrong key counts as a failure."""
        if not client_keys_configured(settings):
            return identify(headers, settings)
        address = client_address(scope, settings)
        self.check_allowed(address)
        try:
            return identify(headers, settings)
        except ProxyError as exc:
            if presented_key(headers) is not None:
                self.limiter.failed(address)
            raise exc from None

    def admin(self, scope: Scope, headers: dict[str, str], settings: Settings) -> None:
        """Let a management request through only with the admin key; 403 while no admin key is set."""
        expected = admin_key(settings)
        if expected is None:
            raise ProxyError(403, admin_off(settings), code="admin_key_not_set")
        address = client_address(scope, settings)
        self.check_allowed(address)
        presented = presented_key(headers)
        if presented is None:
            raise ProxyError(401, "Missing admin key: send it as 'Authorization: Bearer' or 'x-api-key'.")
        if not _same(presented, expected):
            self.limiter.failed(address)
            raise ProxyError(401, "Invalid admin key.")

    def admin_login(self, scope: Scope, presented: str, settings: Settings) -> bool:
        """The dashboard login: True for the admin key; a wrong one counts. ProxyError 429 while locked out."""
        expected = admin_key(settings)
        address = client_address(scope, settings)
        self.check_allowed(address)
        if expected is not None and _same(presented, expected):
            return True
        self.limiter.failed(address)
        return False
