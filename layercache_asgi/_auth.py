"""Who is calling: the proxy key check, the provider credential, the tenant."""

from __future__ import annotations

import hashlib
import hmac

from ._config import Settings
from ._errors import ProxyError

__all__ = ["Caller", "identify"]


class Caller:
    __slots__ = ("credential", "tenant")

    def __init__(self, tenant: str, credential: str | None) -> None:
        self.tenant = tenant
        self.credential = credential  # the provider key to pass through, if any


def _presented_key(headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return headers.get("x-api-key") or headers.get("api-key") or None


def _tenant_id(value: str) -> str:
    # A hash, so the credential itself is never stored; long enough not to collide.
    return hashlib.sha256(b"layercache-tenant\x00" + value.encode()).hexdigest()[:32]


def identify(headers: dict[str, str], settings: Settings) -> Caller:
    """Check the proxy key when one is set, and name the tenant whose cache this request may use."""
    presented = _presented_key(headers)
    proxy_key = settings.proxy.proxy_api_key
    if proxy_key is None:
        # Pass-through mode: the client's provider key is its identity.
        return Caller(_tenant_id("key:" + presented) if presented else "anonymous", presented)
    if presented is None:
        raise ProxyError(401, "Missing API key: send the proxy key as 'Authorization: Bearer' or 'x-api-key'.")
    if not hmac.compare_digest(presented.encode(), proxy_key.get_secret_value().encode()):
        raise ProxyError(401, "Invalid API key.")
    header = settings.proxy.tenant_header
    tenant = headers.get(header.lower()) if header else None
    return Caller(_tenant_id("tenant:" + tenant) if tenant else "default", None)
