"""Browser tabs on the dashboard for tests: a served app's (``Browser``) or an in-process app's (``Tab``)."""

from __future__ import annotations

import html as html_lib
import re

import httpx

from layercache_asgi.types import ASGIApp

KEY = "admin-key-for-the-dashboard-0123"  # the admin key of test_dashboard's apps: it logs in
BASE = "http://dashboard.test"  # where a Tab reaches its in-process app


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None, "no CSRF token on the page"
    return match.group(1)


def textarea_of(html: str) -> str:
    match = re.search(r"<textarea[^>]*>\n?(.*?)</textarea>", html, re.S)
    assert match is not None
    return html_lib.unescape(match.group(1))


class Browser(httpx.Client):
    """An HTTP client that keeps cookies, like a browser tab on the dashboard of a served app."""

    def __init__(self, base: str, *, address: str = "127.0.0.1") -> None:
        # address: the loopback address the tab connects from (the server sees it as the client).
        transport = httpx.HTTPTransport(local_address=address)
        super().__init__(base_url=base, follow_redirects=False, timeout=30, transport=transport)

    def token(self, page: str = "login") -> str:
        return csrf_of(self.get(f"/dashboard/{page}").text)

    def login(self, key: str = KEY) -> httpx.Response:
        return self.post("/dashboard/login", data={"key": key, "csrf_token": self.token()})


class Tab(httpx.AsyncClient):
    """The same for an app in-process: the app sees ``address`` as the ASGI client, as from a socket."""

    def __init__(self, app: ASGIApp, base: str = BASE, *, address: str = "127.0.0.1") -> None:
        transport = httpx.ASGITransport(app=app, client=(address, 50123))
        super().__init__(base_url=base, follow_redirects=False, timeout=30, transport=transport)

    async def token(self, page: str = "login") -> str:
        return csrf_of((await self.get(f"/dashboard/{page}")).text)

    async def login(self, key: str = KEY) -> httpx.Response:
        return await self.post("/dashboard/login", data={"key": key, "csrf_token": await self.token()})
