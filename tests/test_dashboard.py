"""The dashboard over HTTP: mounting, login, sessions, CSRF, read-only mode, config editing, logs, prefix page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import structlog
from starlette.applications import Starlette
from starlette.routing import Mount

from layercache_asgi import LayerCacheApp, Settings, get_exchange
from layercache_asgi._types import ASGIApp, Receive, Scope, Send
from layercache_asgi.stages import DEFAULT_STAGES
from layercache_asgi.testing import serve

KEY = "proxy-key-0123456789"
PAGES = ("", "models", "cache", "templates", "config", "logs", "prefix")


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None, "no CSRF token on the page"
    return match.group(1)


class Browser(httpx.Client):
    """An HTTP client that keeps cookies, like a browser tab on the dashboard."""

    def __init__(self, base: str) -> None:
        super().__init__(base_url=base, follow_redirects=False, timeout=30)

    def token(self, page: str = "login") -> str:
        return csrf_of(self.get(f"/dashboard/{page}").text)

    def login(self, key: str = KEY) -> httpx.Response:
        return self.post("/dashboard/login", data={"key": key, "csrf_token": self.token()})


class Chatty:
    """Logs a provider-style error message that echoes the prompt, as upstream errors can."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        assert exchange is not None
        exchange.notes["prefix_change"] = "L1"
        exchange.notes["prefix_change_detail"] = "changed:L1 tools[3]"
        text = exchange.request.messages[-1]["content"]
        structlog.get_logger("layercache.test").warning("upstream_failed", error=f"Bad request: {text}", status=400)
        await self.app(scope, receive, send)


@pytest.fixture
def keyed(make_settings: Callable[..., Settings]) -> Iterator[tuple[str, LayerCacheApp]]:
    """An app with a proxy key, mounted under /llm in a host app."""
    # Chatty innermost, so its notes are the ones recorded (the prompt-engine stages write the same keys).
    app = LayerCacheApp(make_settings(proxy={"proxy_api_key": KEY}), stages=[*DEFAULT_STAGES, Chatty])
    with serve(Starlette(routes=[Mount("/llm", app)])) as url:
        yield f"{url}/llm", app


def test_every_page_needs_a_login_and_links_follow_the_mount_prefix(keyed: tuple[str, LayerCacheApp]) -> None:
    base, _ = keyed
    tab = Browser(base)
    for page in PAGES:
        response = tab.get(f"/dashboard/{page}")
        assert response.status_code == 303 and response.headers["location"] == "/llm/dashboard/login", page
    assert tab.get("/dashboard/data/history").status_code == 401
    cookie = Browser(base).get("/dashboard/login").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/llm/dashboard" in cookie

    assert tab.login("wrong-key").status_code == 401
    assert tab.login().status_code == 303
    for page in PAGES:
        response = tab.get(f"/dashboard/{page}")
        assert response.status_code == 200, page
        assert "content-security-policy" in response.headers
        links = re.findall(r'(?:href|src|action)="([^"]+)"', response.text)
        assert links and all(link.startswith("/llm/dashboard") for link in links if link.startswith("/")), links
        assert KEY not in response.text
    assert tab.get("/dashboard/static/vendor/chart-4.6.1.umd.min.js").status_code == 200
    cross = tab.get("/dashboard/", headers={"origin": "https://evil.example"})
    assert not [h for h in cross.headers if h.startswith("access-control-")]  # no CORS, let alone a wildcard


def test_state_changing_requests_need_the_sessions_csrf_token(keyed: tuple[str, LayerCacheApp]) -> None:
    base, app = keyed
    tab = Browser(base)
    tab.login()
    before = app.runtime.settings
    good = tab.token("config")
    yaml_text = "upstream:\n  timeout: 42\n"
    assert tab.post("/dashboard/config", data={"yaml": yaml_text}).status_code == 403  # no token
    assert tab.post("/dashboard/config", data={"yaml": yaml_text, "csrf_token": good + "x"}).status_code == 403
    other = Browser(base)
    other.login()
    stolen = other.token("config")  # a real token, but of another session
    assert tab.post("/dashboard/config", data={"yaml": yaml_text, "csrf_token": stolen}).status_code == 403
    cross_site = tab.post(
        "/dashboard/config", data={"yaml": yaml_text, "csrf_token": good}, headers={"origin": "https://evil.example"}
    )
    assert cross_site.status_code == 403
    # A forged request carries no cookie at all (SameSite=Strict): refused too.
    forged = httpx.post(f"{base}/dashboard/cache/invalidate", data={"scope": "all", "confirm": "yes"})
    assert forged.status_code in (401, 403)
    assert app.runtime.settings is before
    assert tab.post("/dashboard/config", data={"yaml": yaml_text, "csrf_token": good}).status_code == 200
    assert app.runtime.settings.upstream.timeout == 42


def test_the_config_editor_hides_secrets_and_keeps_them_on_save(
    make_settings: Callable[..., Settings], tmp_path: Any
) -> None:
    settings = make_settings(proxy={"proxy_api_key": KEY}, dashboard={"session_secret": "s3cret-session-value-xyz"})
    app = LayerCacheApp(settings)
    with serve(app) as base:
        tab = Browser(base)
        tab.login()
        page = tab.get("/dashboard/config").text
        assert KEY not in page and "s3cret-session" not in page and "proxy_api_key" not in page.split("#", 2)[-1]
        text = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)
        assert text is not None
        edited = text.group(1).replace("&#39;", "'").replace("&#34;", '"').replace("&amp;", "&")
        edited = edited.replace("timeout: 600.0", "timeout: 33.0")
        saved = tab.post("/dashboard/config", data={"yaml": edited, "csrf_token": csrf_of(page)})
        assert saved.status_code == 200 and "Saved and applied" in saved.text
        assert app.runtime.settings.upstream.timeout == 33.0
        proxy_key = app.runtime.settings.proxy.proxy_api_key
        assert proxy_key is not None and proxy_key.get_secret_value() == KEY  # kept, not blanked
        invalid = tab.post("/dashboard/config", data={"yaml": "upstream: {timeout: -1}", "csrf_token": csrf_of(page)})
        assert invalid.status_code == 400 and "upstream.timeout" in invalid.text
        assert app.runtime.settings.upstream.timeout == 33.0


def test_database_passwords_are_masked_in_the_editor() -> None:
    from layercache_asgi.dashboard._settings_io import editor_yaml, settings_from_editor

    current = Settings.model_validate({"database": {"url": "postgresql+asyncpg://app:hunter2@db/layercache"}})
    shown = editor_yaml(current)
    assert "hunter2" not in shown and "app:***@db" in shown
    assert settings_from_editor(shown, current).database.url == current.database.url


def test_without_a_key_the_dashboard_is_read_only_unless_enabled(make_settings: Callable[..., Settings]) -> None:
    for writable in (False, True):
        app = LayerCacheApp(make_settings(dashboard={"allow_writes_without_key": writable}))
        with serve(app) as base:
            tab = Browser(base)
            page = tab.get("/dashboard/config")
            assert page.status_code == 200 and ("Validate and save" in page.text) is writable
            saved = tab.post(
                "/dashboard/config", data={"yaml": "upstream: {timeout: 7}", "csrf_token": csrf_of(page.text)}
            )
            assert saved.status_code == (200 if writable else 403)
            assert (app.runtime.settings.upstream.timeout == 7) is writable


def test_sessions_are_signed_with_a_per_app_random_secret(make_settings: Callable[..., Settings]) -> None:
    assert Settings().dashboard.session_secret is None
    first = LayerCacheApp(make_settings(proxy={"proxy_api_key": KEY}))
    second = LayerCacheApp(make_settings(proxy={"proxy_api_key": KEY}))
    with serve(first) as one, serve(second) as two:
        tab = Browser(one)
        tab.login()
        cookie = tab.cookies.get("layercache_dashboard")
        assert cookie and tab.get("/dashboard/").status_code == 200
        stranger = httpx.get(f"{two}/dashboard/", cookies={"layercache_dashboard": cookie})
        assert stranger.status_code == 303  # the other app cannot read it: not logged in there


def test_logs_hide_provider_messages_and_prefix_page_shows_layer_and_position(
    keyed: tuple[str, LayerCacheApp],
) -> None:
    base, _ = keyed
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "my secret plan"}]}
    answered = httpx.post(f"{base}/v1/chat/completions", json=body, headers={"authorization": f"Bearer {KEY}"})
    assert answered.status_code == 200
    tab = Browser(base)
    tab.login()
    logs = tab.get("/dashboard/logs").text
    assert "upstream_failed" in logs and "[message hidden]" in logs and "secret plan" not in logs
    assert answered.headers["x-request-id"][:12] in logs
    prefix = tab.get("/dashboard/prefix").text
    assert "tools[3]" in prefix and ">L1<" in prefix


def test_a_disabled_dashboard_is_not_there(make_settings: Callable[..., Settings]) -> None:
    with serve(LayerCacheApp(make_settings(dashboard={"enabled": False}))) as base:
        assert httpx.get(f"{base}/dashboard/").status_code == 404
