"""Is a dashboard POST from the dashboard's own origin? The check that backs up the CSRF token.

A browser sends ``Origin`` with every cross-site POST. The request is the dashboard's own
when that origin names the host the browser was talking to, which is one of:

- the ``Host`` header (no proxy, or a proxy that passes Host through);
- ``X-Forwarded-Host`` / ``Forwarded: host=`` (a proxy that rewrites Host and says so).
  These are trusted without a trusted-proxy list because a cross-site page cannot make a
  browser send them: they are not CORS-safelisted, so setting one needs a preflight, which
  the dashboard never grants. A client that is not a browser can forge them, but it can
  forge ``Origin`` too, and it has no session cookie or CSRF token;
- an origin listed in ``dashboard.allowed_origins`` (a proxy that rewrites Host silently).

Host and port are compared, not the scheme: behind a TLS-terminating proxy the page is
``https://`` while the app sees plain HTTP. Listed origins must match exactly, scheme too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

__all__ = ["origin_allowed"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(value: str) -> tuple[str, str, int] | None:
    """``https://Example.com`` → (https, example.com, 443); None for ``null`` or anything malformed."""
    parts = urlsplit(value.strip())
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        return None
    return parts.scheme, parts.hostname.lower(), port


def _host(value: str, scheme: str) -> tuple[str, int] | None:
    """A Host-style ``name[:port]``; without a port, the default port of the Origin's scheme."""
    parts = urlsplit(f"//{value.strip()}")
    if not parts.hostname:
        return None
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        return None
    return parts.hostname.lower(), port


def _forwarded_hosts(headers: Mapping[str, str]) -> list[str]:
    # With several proxies each appends; the first value is the host the browser used.
    hosts = []
    if xfh := headers.get("x-forwarded-host"):
        hosts.append(xfh.split(",")[0])
    if forwarded := headers.get("forwarded"):
        for pair in forwarded.split(",")[0].split(";"):
            name, _, value = pair.strip().partition("=")
            if name.lower() == "host" and value:
                hosts.append(value.strip('"'))
    return hosts


def origin_allowed(origin: str, headers: Mapping[str, str], allowed_origins: Iterable[str]) -> bool:
    """True when ``origin`` (the request's Origin header) is the dashboard's own, as described above."""
    parsed = _origin(origin)
    if parsed is None:
        return False
    scheme, host, port = parsed
    candidates = [headers.get("host", ""), *_forwarded_hosts(headers)]
    if any(_host(c, scheme) == (host, port) for c in candidates if c):
        return True
    return any(_origin(listed) == parsed for listed in allowed_origins)
