"""Keys and roles: client keys (tenant-bound or not) for the proxy routes, the admin key for management,
secure defaults, failed authentications limited on every route, trusted proxies, sessions after logout."""
# On sockets: the forged X-Forwarded-For test, whose subject is uvicorn (it trusts the header from loopback and
# replaces the peer before the app sees it); the rest in-process, each client with its own source address.

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar

import httpx
import pytest

from layercache_asgi import LayerCacheApp, Settings, get_exchange
from layercache_asgi.stages import DEFAULT_STAGES
from layercache_asgi.testing import FakeProvider, serve
from layercache_asgi.types import ASGIApp, Receive, Scope, Send

from ._dashboard import BASE, Tab, csrf_of
from .conftest import ADMIN, ADMIN_KEY

pytestmark = pytest.mark.in_process

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
CLAUDE = {"model": "claude-sonnet-4-6", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
MANAGEMENT = (
    ("GET", "/v1/cache/entries"),
    ("DELETE", "/v1/cache/entries?all=true"),
    ("GET", "/v1/prompts/templates"),
    ("POST", "/v1/prompts/reload"),
    ("POST", "/v1/config/reload"),
    ("GET", "/v1/cache/metrics"),
    ("GET", "/v1/cache/metrics/history"),
    ("GET", "/v1/cache/metrics/status"),
)


def tenant_of(name: str) -> str:
    return hashlib.sha256(b"layercache-tenant\x00" + f"tenant:{name}".encode()).hexdigest()[:32]


class RecordTenant:
    """Innermost stage: remembers the tenant each request was served for."""

    seen: ClassVar[list[str]] = []

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        assert exchange is not None
        RecordTenant.seen.append(exchange.tenant)
        await self.app(scope, receive, send)


def client(app: ASGIApp, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client of ``app`` in-process, connecting from ``address`` (the app sees it as the peer)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 50123)), base_url=BASE)


async def chat(app: ASGIApp, key: str | None, *, address: str = "127.0.0.1", **headers: str) -> httpx.Response:
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    async with client(app, address) as http:
        return await http.post("/v1/chat/completions", json=CHAT, headers=headers, timeout=30)


@contextlib.asynccontextmanager
async def running(app: LayerCacheApp) -> AsyncIterator[LayerCacheApp]:
    try:
        yield app
    finally:
        await app.shutdown()


@pytest.fixture
def keyed_app(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch, fake: FakeProvider
) -> Callable[[], LayerCacheApp]:
    """Builds the app with tenant-bound and unbound client keys (the fake reached in-process)."""
    monkeypatch.setenv("LC_TEST_OPERATOR_KEY", "sk-provider-of-the-operator")
    monkeypatch.setenv("LC_TEST_TEAM_B_KEY", "client-key-team-b")
    monkeypatch.delenv("LC_TEST_UNSET_KEY", raising=False)
    settings = make_settings(
        providers={"openai": {"api_key_env": "LC_TEST_OPERATOR_KEY"}},
        proxy={
            "tenant_header": "x-tenant",
            "client_keys": [
                {"key": "client-key-team-a", "tenant": "team-a"},
                {"key_env": "LC_TEST_TEAM_B_KEY", "tenant": "team-b"},
                {"key": "client-key-unbound"},
                {"key_env": "LC_TEST_UNSET_KEY"},
            ],
        },
    )
    RecordTenant.seen = []
    return lambda: LayerCacheApp(
        settings, stages=[*DEFAULT_STAGES, RecordTenant], transport=httpx.ASGITransport(app=fake)
    )


@pytest.fixture
async def keyed(keyed_app: Callable[[], LayerCacheApp]) -> AsyncIterator[LayerCacheApp]:
    async with running(keyed_app()) as app:
        yield app


# -- item 6: client keys open the proxy routes only, each maybe bound to a tenant ----------------------


async def test_a_bound_client_key_has_its_tenant_whatever_the_header_says(
    keyed: LayerCacheApp, fake: FakeProvider
) -> None:
    assert (await chat(keyed, "client-key-team-a", **{"x-tenant": "team-b"})).status_code == 200
    assert (await chat(keyed, "client-key-team-b")).status_code == 200  # read from its environment variable
    unbound = await chat(keyed, "client-key-unbound", **{"x-tenant": "team-b"})
    assert unbound.status_code == 200  # unbound: header honoured
    assert (await chat(keyed, "client-key-unbound")).status_code == 200
    assert RecordTenant.seen == [tenant_of("team-a"), tenant_of("team-b"), tenant_of("team-b"), "default"]
    # Provider keys come from the environment; no client key ever reaches the provider.
    assert {r.headers["authorization"] for r in fake.requests} == {"Bearer sk-provider-of-the-operator"}


async def test_wrong_unset_and_admin_keys_do_not_open_the_proxy_routes(keyed: LayerCacheApp) -> None:
    for key in (None, "guess", ADMIN_KEY):  # an unset key_env opens nothing, the admin key is no client key
        refused = await chat(keyed, key)
        assert refused.status_code == 401, key
        assert refused.json()["error"]["type"] == "authentication_error"
    assert RecordTenant.seen == []


async def test_client_keys_do_not_open_management_routes_or_the_dashboard(keyed: LayerCacheApp) -> None:
    async with client(keyed) as http:
        for method, path in MANAGEMENT:
            refused = await http.request(method, path, headers={"authorization": "Bearer client-key-unbound"})
            assert refused.status_code == 401, path
            assert refused.json()["error"]["type"] == "authentication_error", path
            assert (await http.request(method, path, headers=ADMIN)).status_code not in (401, 403, 429), path
    assert (await Tab(keyed).login("client-key-team-a")).status_code == 401


def test_a_config_refuses_the_removed_allow_writes_settings() -> None:
    from layercache_asgi import ConfigError

    for section in ("proxy", "dashboard"):
        with pytest.raises(ConfigError, match=rf"{section}\.allow_writes_without_key was removed.*admin_api_key"):
            Settings.from_yaml(f"{section}: {{allow_writes_without_key: true}}\n")
    with pytest.raises(ConfigError, match="exactly one of key or key_env"):
        Settings.from_yaml("proxy: {client_keys: [{tenant: a}]}\n")
    with pytest.raises(ConfigError, match="not an IP address or CIDR"):
        Settings.from_yaml("proxy: {trusted_proxies: [proxy.example]}\n")


# -- item 7: secure by default ---------------------------------------------------------------------------


async def test_without_an_admin_key_management_is_off_and_says_how_to_turn_it_on(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch, fake: FakeProvider
) -> None:
    monkeypatch.delenv("LAYERCACHE_ADMIN_KEY", raising=False)
    app = LayerCacheApp(make_settings(proxy={"admin_api_key": None}), transport=httpx.ASGITransport(app=fake))
    async with running(app), client(app) as http:
        for method, path in MANAGEMENT:
            for headers in ({}, {"authorization": "Bearer sk-anything"}):
                refused = await http.request(method, path, headers=headers)
                assert refused.status_code == 403, path
                error = refused.json()["error"]
                assert error["type"] == "permission_error" and error["code"] == "admin_key_not_set"
                assert "proxy.admin_api_key" in error["message"] and "$LAYERCACHE_ADMIN_KEY" in error["message"]
        page = await http.get("/dashboard/")
        assert page.status_code == 403 and "proxy.admin_api_key" in page.text
        # What stays open: health, Prometheus, the model list, and of course the proxy itself.
        assert (await http.get("/health")).status_code == 200
        assert (await http.get("/metrics")).status_code == 200
        assert (await http.get("/v1/models")).status_code == 200
        assert (await chat(app, "sk-client-provider-key")).status_code == 200


# -- item 9: failed authentications are limited on every route ---------------------------------------------


async def test_wrong_client_keys_are_limited_per_address_in_each_routes_error_shape(keyed: LayerCacheApp) -> None:
    for attempt in range(10):
        assert (await chat(keyed, f"guess-{attempt}")).status_code == 401
    limited = await chat(keyed, "client-key-unbound")  # the right key, but the address is locked out for now
    assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.json()["error"]["type"] == "rate_limit_error"  # OpenAI's shape
    async with client(keyed) as http:
        anthropic = await http.post("/v1/messages", json=CLAUDE, headers={"x-api-key": "client-key-unbound"})
        assert anthropic.status_code == 429 and "retry-after" in anthropic.headers
        assert anthropic.json() == {
            "type": "error",
            "error": {"type": "rate_limit_error", "message": anthropic.json()["error"]["message"]},
        }
        counted = await http.post("/v1/messages/count_tokens", json=CLAUDE, headers={"x-api-key": "client-key-unbound"})
        assert counted.status_code == 429 and counted.json()["type"] == "error"
        admin = await http.get("/v1/cache/entries", headers=ADMIN)
        assert admin.status_code == 429 and admin.json()["error"]["type"] == "rate_limit_error"
    assert (await Tab(keyed).login(ADMIN_KEY)).status_code == 429  # one count for every route, login included
    # Another address is not affected.
    assert (await chat(keyed, "client-key-unbound", address="127.0.0.2")).status_code == 200


async def test_wrong_admin_keys_are_limited_and_count_with_failed_logins(keyed: LayerCacheApp) -> None:
    tab = Tab(keyed)
    for attempt in range(5):
        assert (await tab.login(f"guess-{attempt}")).status_code == 401
    async with client(keyed) as http:
        for attempt in range(5):
            wrong = await http.post("/v1/config/reload", headers={"authorization": f"Bearer guess-{attempt}"})
            assert wrong.status_code == 401
        refused = await http.post("/v1/config/reload", headers=ADMIN)
    assert refused.status_code == 429 and "retry-after" in refused.headers
    assert "Too many failed" in refused.json()["error"]["message"]
    # A logged-in admin elsewhere still works: the dashboard's own API calls have their own address.
    other = Tab(keyed, address="127.0.0.3")
    assert (await other.login(ADMIN_KEY)).status_code == 303
    assert (await other.get("/dashboard/cache")).status_code == 200
    assert "Cache entries are unavailable" not in (await other.get("/dashboard/cache")).text


def test_a_forged_x_forwarded_for_does_not_buy_fresh_attempts(keyed_app: Callable[[], LayerCacheApp]) -> None:
    def served_chat(base: str, address: str, **headers: str) -> httpx.Response:
        with httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30) as http:
            return http.post(
                f"{base}/v1/chat/completions", json=CHAT, headers={"authorization": "Bearer guess", **headers}
            )

    with serve(keyed_app()) as base:
        # From loopback, which uvicorn trusts for X-Forwarded-For by default (it replaces the peer with the
        # header's address, so the forged requests share one allowance), and from an address it does not.
        for address in ("127.0.0.1", "127.0.0.2"):
            for attempt in range(10):
                forged = {"x-forwarded-for": f"203.0.113.{attempt}"}
                assert served_chat(base, address, **forged).status_code == 401
            assert served_chat(base, address, **{"x-forwarded-for": "203.0.113.99"}).status_code == 429
        assert served_chat(base, "127.0.0.2").status_code == 429


async def test_behind_a_trusted_proxy_each_forwarded_client_is_counted_on_its_own(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    # 127.0.0.2 plays the reverse proxy: the app sees it as the peer, and believes its X-Forwarded-For.
    settings = make_settings(proxy={"proxy_api_key": "client-key", "trusted_proxies": ["127.0.0.2/32"]})
    async with running(LayerCacheApp(settings, transport=httpx.ASGITransport(app=fake))) as app:
        behind = {"x-forwarded-for": "198.51.100.7"}
        for _ in range(10):
            assert (await chat(app, "guess", address="127.0.0.2", **behind)).status_code == 401
        assert (await chat(app, "client-key", address="127.0.0.2", **behind)).status_code == 429
        neighbour = {"x-forwarded-for": "198.51.100.8, 127.0.0.2"}  # another client through two hops of the proxy
        assert (await chat(app, "client-key", address="127.0.0.2", **neighbour)).status_code == 200
        # The proxy's own address was not locked out by its clients' failures.
        assert (await chat(app, "client-key", address="127.0.0.2")).status_code == 200


def test_client_address_walks_x_forwarded_for_only_through_trusted_proxies() -> None:
    from layercache_asgi._forwarded import FORWARDED, client_address

    def address(peer: str, xff: str | None, trusted: list[str]) -> str:
        headers = [(b"x-forwarded-for", xff.encode())] if xff is not None else []
        settings = Settings.model_validate({"proxy": {"trusted_proxies": trusted}})
        return client_address({"type": "http", "client": (peer, 1), "headers": headers}, settings)

    assert address("10.0.0.9", None, []) == "10.0.0.9"
    assert address("10.0.0.9", "1.2.3.4", []) == "10.0.0.9"  # not trusted: the header means nothing
    assert address("10.0.0.9", "1.2.3.4", ["10.0.0.0/8"]) == "1.2.3.4"
    assert address("10.0.0.9", "6.6.6.6, 1.2.3.4, 10.0.0.8", ["10.0.0.0/8"]) == "1.2.3.4"  # the left is forgeable
    assert address("10.0.0.9", "not-an-ip", ["10.0.0.0/8"]) == FORWARDED
    assert address("1.2.3.4", "1.2.3.4", []) == FORWARDED  # the server in front already replaced the peer


# -- item 9: sessions after logout, Secure cookies behind TLS-terminating proxies ------------------------


async def test_a_session_cookie_stops_working_after_logout(keyed: LayerCacheApp) -> None:
    tab = Tab(keyed)
    assert (await tab.login(ADMIN_KEY)).status_code == 303
    copied = tab.cookies.get("layercache_dashboard")
    assert copied is not None
    as_copied = {"cookie": f"layercache_dashboard={copied}"}
    assert (await Tab(keyed).get("/dashboard/", headers=as_copied)).status_code == 200
    token = await tab.token("")
    assert (await tab.post("/dashboard/logout", data={"csrf_token": token})).status_code == 303
    replayed = await Tab(keyed).get("/dashboard/config", headers=as_copied)
    assert replayed.status_code == 303 and replayed.headers["location"].endswith("/dashboard/login")
    assert (await tab.login(ADMIN_KEY)).status_code == 303 and (await tab.get("/dashboard/")).status_code == 200


def _session_cookie(response: httpx.Response) -> str:
    (cookie,) = [c for c in response.headers.get_list("set-cookie") if c.startswith("layercache_dashboard=")]
    return cookie.lower()


async def test_the_cookie_is_secure_over_https_seen_through_a_trusted_proxy_or_when_configured(
    make_settings: Callable[..., Settings],
) -> None:
    https = {"x-forwarded-proto": "https"}
    cases: list[tuple[dict[str, Any], dict[str, str], bool]] = [
        ({}, {}, False),
        ({}, https, False),  # anyone can send the header
        ({"proxy": {"trusted_proxies": ["127.0.0.2"]}}, https, True),
        ({"proxy": {"trusted_proxies": ["127.0.0.2"]}}, {}, False),
        ({"dashboard": {"secure_cookies": True}}, {}, True),
    ]
    for overrides, headers, secure in cases:
        async with running(LayerCacheApp(make_settings(**overrides))) as app:
            # The first visit gets its (anonymous) session cookie: written like the logged-in one.
            tab = Tab(app, address="127.0.0.2")
            first = await tab.get("/dashboard/login", headers=headers)
            assert ("; secure" in _session_cookie(first)) is secure, (overrides, headers)
            if not secure:  # (a client on plain http does not send a Secure cookie back)
                login = await tab.post("/dashboard/login", data={"key": ADMIN_KEY, "csrf_token": csrf_of(first.text)})
                assert login.status_code == 303 and "; secure" not in _session_cookie(login)


# -- item 11: small leaks ----------------------------------------------------------------------------------

LEAKY = """\
proxy:
  admin_api_key: {admin}
  client_keys:
    - {{key: client-secret-0001, tenant: a}}   # team a
providers:
  openai: {{api_base: "{upstream_with_user}/v1"}}
  gemini:
    api_base: https://gemini.example/v1beta?key=AIzaSy-gemini-secret-77   # key in the query
models:
  - {{name: gw, model: openai/gpt-4o, api_base: "https://svc-account:gw-password-55@gw.example/v1"}}
database:
  url: "{database_url}"
  auto_upgrade: true
caching:
  semantic: {{enabled: false}}
logging: {{format: console}}
"""
SECRETS = ("s3cret-pw-42", "client-secret-0001", "AIzaSy-gemini-secret-77", "gw-password-55", "svc-account")


async def test_the_config_page_hides_credentials_inside_urls_and_keeps_them_on_save(
    tmp_path: Any, upstream: str, database_url: str, fake: FakeProvider
) -> None:
    from ._dashboard import textarea_of

    with_user = upstream.replace("http://", "http://proxyuser:s3cret-pw-42@")
    config = tmp_path / "layercache.yaml"
    original = LEAKY.format(admin=ADMIN_KEY, upstream_with_user=with_user, database_url=database_url)
    config.write_text(original, encoding="utf-8")
    app = LayerCacheApp(config, transport=httpx.ASGITransport(app=fake))
    async with running(app):
        tab = Tab(app)
        assert (await tab.login(ADMIN_KEY)).status_code == 303
        page = (await tab.get("/dashboard/config")).text
        for secret in (*SECRETS, ADMIN_KEY):
            assert secret not in page, secret
        shown = textarea_of(page)
        assert 'api_base: "http://***@provider.test/v1"' in shown and '"https://***@gw.example/v1"' in shown
        assert '"https://gemini.example/v1beta?key=***"   # key in the query' in shown
        seen = re.search(r'name="file_fingerprint" value="([^"]+)"', page)
        assert seen is not None
        edited = shown.replace("semantic: {enabled: false}", "semantic: {enabled: false, default_ttl: 9}")
        form = {"yaml": edited, "csrf_token": csrf_of(page), "file_fingerprint": seen.group(1)}
        saved = await tab.post("/dashboard/config", data=form)
        assert saved.status_code == 200 and "Saved and applied" in saved.text
        assert config.read_text() == original.replace(
            "semantic: {enabled: false}", "semantic: {enabled: false, default_ttl: 9}"
        )  # every secret back where it was
        assert app.runtime.settings.providers["openai"].api_base == f"{with_user}/v1"
        # The effective-settings view (what an app configured in code shows) hides them too.
        from layercache_asgi.dashboard._settings_io import editor_yaml, settings_from_editor

        effective = editor_yaml(app.runtime.settings)
        assert not [s for s in (*SECRETS, ADMIN_KEY) if s in effective]
        assert settings_from_editor(effective, app.runtime.settings) == app.runtime.settings  # all put back


async def test_the_sqlite_file_is_created_owner_only(
    make_settings: Callable[..., Settings], tmp_path: Any, fake: FakeProvider
) -> None:
    import os
    import stat

    database = tmp_path / "private.db"
    settings = make_settings(database={"url": f"sqlite+aiosqlite:///{database}"})
    async with running(LayerCacheApp(settings, transport=httpx.ASGITransport(app=fake))) as app:
        assert (await chat(app, "sk-some-key")).status_code == 200
        files = [p for p in tmp_path.iterdir() if p.name.startswith("private.db")]
        assert database in files
        for path in files:  # the database and its -wal / -shm
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path.name
