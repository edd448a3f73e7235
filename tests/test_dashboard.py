"""The dashboard over HTTP: mounting, login and its rate limit, sessions, CSRF and origins, the off switch,
config editing (the file kept as written), logs, prefix page."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from starlette.applications import Starlette
from starlette.routing import Mount

from layercache_asgi import LayerCacheApp, Settings, get_exchange
from layercache_asgi.stages import DEFAULT_STAGES
from layercache_asgi.testing import FakeProvider
from layercache_asgi.types import ASGIApp, Receive, Scope, Send

from ._dashboard import BASE, KEY, Tab, csrf_of, textarea_of
from .conftest import MODEL_DIR

pytestmark = pytest.mark.in_process

CLIENT_KEY = "proxy-key-0123456789"  # a client key: it never does
PAGES = ("", "models", "cache", "templates", "config", "logs", "prefix")


def edited(app: LayerCacheApp, **sections: dict[str, Any]) -> str:
    """The config editor's YAML for an app configured in code, with ``sections`` changed: a save
    replaces the settings, and one that leaves out a section the running settings have is refused."""
    from layercache_asgi.dashboard._settings_io import editor_yaml

    data = yaml_load(editor_yaml(app.runtime.settings))
    for name, values in sections.items():
        data[name] = {**data[name], **values}
    return _yaml_dump(data)


def _yaml_dump(data: Any) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False)


@contextlib.asynccontextmanager
async def running(*apps: LayerCacheApp) -> AsyncIterator[None]:
    """The apps are shut down when the block ends (each starts on its first request, as when mounted)."""
    try:
        yield
    finally:
        for app in apps:
            await app.shutdown()


class Chatty:
    """Logs a provider-style error message that echoes the prompt, as upstream errors can."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        assert exchange is not None
        exchange.prefix_change = "L1"
        exchange.prefix_change_detail = "changed:L1 tools[3]"
        text = exchange.request.messages[-1]["content"]
        structlog.get_logger("layercache.test").warning("upstream_failed", error=f"Bad request: {text}", status=400)
        await self.app(scope, receive, send)


Keyed = tuple[Starlette, LayerCacheApp]


@pytest.fixture
async def keyed(make_settings: Callable[..., Settings], fake: FakeProvider) -> AsyncIterator[Keyed]:
    """An app with an admin key and a client key, mounted under /llm in a host app (reach it at ``BASE/llm``)."""
    # Chatty innermost, so what it sets is recorded (the prompt-engine stages set the same fields).
    settings = make_settings(proxy={"proxy_api_key": CLIENT_KEY, "admin_api_key": KEY})
    app = LayerCacheApp(settings, stages=[*DEFAULT_STAGES, Chatty], transport=httpx.ASGITransport(app=fake))
    async with running(app):
        yield Starlette(routes=[Mount("/llm", app)]), app


def tab_of(keyed: Keyed, *, address: str = "127.0.0.1") -> Tab:
    return Tab(keyed[0], f"{BASE}/llm", address=address)


async def test_every_page_needs_a_login_and_links_follow_the_mount_prefix(keyed: Keyed) -> None:
    tab = tab_of(keyed)
    for page in PAGES:
        response = await tab.get(f"/dashboard/{page}")
        assert response.status_code == 303 and response.headers["location"] == "/llm/dashboard/login", page
    assert (await tab.get("/dashboard/data/history")).status_code == 401
    cookie = (await tab_of(keyed).get("/dashboard/login")).headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/llm/dashboard" in cookie

    assert (await tab.login("wrong-key")).status_code == 401
    assert (await tab.login(CLIENT_KEY)).status_code == 401  # a client key is no admin key
    assert (await tab.login()).status_code == 303
    for page in PAGES:
        response = await tab.get(f"/dashboard/{page}")
        assert response.status_code == 200, page
        assert "content-security-policy" in response.headers
        links = re.findall(r'(?:href|src|action)="([^"]+)"', response.text)
        assert links and all(link.startswith("/llm/dashboard") for link in links if link.startswith("/")), links
        assert KEY not in response.text and CLIENT_KEY not in response.text
    assert (await tab.get("/dashboard/static/vendor/chart-4.6.1.umd.min.js")).status_code == 200
    cross = await tab.get("/dashboard/", headers={"origin": "https://evil.example"})
    assert not [h for h in cross.headers if h.startswith("access-control-")]  # no CORS, let alone a wildcard


async def test_state_changing_requests_need_the_sessions_csrf_token(keyed: Keyed) -> None:
    _, app = keyed
    tab = tab_of(keyed)
    await tab.login()
    before = app.runtime.settings
    good = await tab.token("config")
    yaml_text = edited(app, upstream={"timeout": 42})
    assert (await tab.post("/dashboard/config", data={"yaml": yaml_text})).status_code == 403  # no token
    wrong = await tab.post("/dashboard/config", data={"yaml": yaml_text, "csrf_token": good + "x"})
    assert wrong.status_code == 403
    other = tab_of(keyed)
    await other.login()
    stolen = await other.token("config")  # a real token, but of another session
    assert (await tab.post("/dashboard/config", data={"yaml": yaml_text, "csrf_token": stolen})).status_code == 403
    cross_site = await tab.post(
        "/dashboard/config", data={"yaml": yaml_text, "csrf_token": good}, headers={"origin": "https://evil.example"}
    )
    assert cross_site.status_code == 403
    # A forged request carries no cookie at all (SameSite=Strict): refused too.
    forged = await tab_of(keyed).post("/dashboard/cache/invalidate", data={"scope": "all", "confirm": "yes"})
    assert forged.status_code in (401, 403)
    assert app.runtime.settings is before
    assert (await tab.post("/dashboard/config", data={"yaml": yaml_text, "csrf_token": good})).status_code == 200
    assert app.runtime.settings.upstream.timeout == 42


async def test_the_config_editor_hides_secrets_and_keeps_them_on_save(
    make_settings: Callable[..., Settings], tmp_path: Any
) -> None:
    settings = make_settings(proxy={"admin_api_key": KEY}, dashboard={"session_secret": "s3cret-session-value-xyz"})
    app = LayerCacheApp(settings)
    async with running(app):
        tab = Tab(app)
        await tab.login()
        page = (await tab.get("/dashboard/config")).text
        assert KEY not in page and "s3cret-session" not in page and "admin_api_key:" not in page
        text = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)
        assert text is not None
        edited = text.group(1).replace("&#39;", "'").replace("&#34;", '"').replace("&amp;", "&")
        edited = edited.replace("timeout: 600.0", "timeout: 33.0")
        saved = await tab.post("/dashboard/config", data={"yaml": edited, "csrf_token": csrf_of(page)})
        assert saved.status_code == 200 and "Saved and applied" in saved.text
        assert app.runtime.settings.upstream.timeout == 33.0
        admin_key = app.runtime.settings.proxy.admin_api_key
        assert admin_key is not None and admin_key.get_secret_value() == KEY  # kept, not blanked
        invalid = await tab.post(
            "/dashboard/config", data={"yaml": "upstream: {timeout: -1}", "csrf_token": csrf_of(page)}
        )
        assert invalid.status_code == 400 and "upstream.timeout" in invalid.text
        assert app.runtime.settings.upstream.timeout == 33.0


def test_database_passwords_are_masked_in_the_editor() -> None:
    from layercache_asgi.dashboard._settings_io import editor_yaml, settings_from_editor

    current = Settings.model_validate({"database": {"url": "postgresql+asyncpg://app:hunter2@db/layercache"}})
    shown = editor_yaml(current)
    assert "hunter2" not in shown and "app:***@db" in shown
    assert settings_from_editor(shown, current).database.url == current.database.url


async def test_without_an_admin_key_the_dashboard_is_off(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAYERCACHE_ADMIN_KEY", raising=False)
    app = LayerCacheApp(make_settings(proxy={"admin_api_key": None, "proxy_api_key": CLIENT_KEY}))
    async with running(app):
        tab = Tab(app)
        for page in (*PAGES, "login"):
            response = await tab.get(f"/dashboard/{page}")
            assert response.status_code == 403 and response.headers["content-type"].startswith("text/html"), page
            assert "proxy.admin_api_key" in response.text and "$LAYERCACHE_ADMIN_KEY" in response.text
            assert "csrf_token" not in response.text and "/dashboard/config" not in response.text  # no way in
        data = await tab.get("/dashboard/data/history")
        assert data.status_code == 403 and "proxy.admin_api_key" in data.json()["error"]
        for key in (CLIENT_KEY, ""):
            login = await tab.post("/dashboard/login", data={"key": key})
            assert login.status_code == 403 and "layercache_dashboard" not in login.headers.get("set-cookie", "")
        saved = await tab.post("/dashboard/config", data={"yaml": "upstream: {timeout: 7}"})
        assert saved.status_code == 403 and app.runtime.settings.upstream.timeout != 7
        # The key from the environment turns it on without a restart.
        monkeypatch.setenv("LAYERCACHE_ADMIN_KEY", "admin-from-the-environment")
        assert (await tab.login("admin-from-the-environment")).status_code == 303
        assert (await tab.get("/dashboard/config")).status_code == 200


async def test_sessions_are_signed_with_a_per_app_random_secret(make_settings: Callable[..., Settings]) -> None:
    assert Settings().dashboard.session_secret is None
    first = LayerCacheApp(make_settings(proxy={"admin_api_key": KEY}))
    second = LayerCacheApp(make_settings(proxy={"admin_api_key": KEY}))
    async with running(first, second):
        tab = Tab(first)
        await tab.login()
        cookie = tab.cookies.get("layercache_dashboard")
        assert cookie and (await tab.get("/dashboard/")).status_code == 200
        stranger = await Tab(second).get("/dashboard/", headers={"cookie": f"layercache_dashboard={cookie}"})
        assert stranger.status_code == 303  # the other app cannot read it: not logged in there


async def test_logs_hide_provider_messages_and_prefix_page_shows_layer_and_position(keyed: Keyed) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "my secret plan"}]}
    answered = await tab_of(keyed).post(
        "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {CLIENT_KEY}"}
    )
    assert answered.status_code == 200
    tab = tab_of(keyed)
    await tab.login()
    logs = (await tab.get("/dashboard/logs")).text
    assert "upstream_failed" in logs and "[message hidden]" in logs and "secret plan" not in logs
    assert answered.headers["x-layercache-request-id"][:12] in logs
    prefix = (await tab.get("/dashboard/prefix")).text
    assert "tools[3]" in prefix and ">L1<" in prefix


async def test_a_disabled_dashboard_is_not_there(make_settings: Callable[..., Settings]) -> None:
    app = LayerCacheApp(make_settings(dashboard={"enabled": False}))
    async with running(app):
        assert (await Tab(app).get("/dashboard/")).status_code == 404


# -- failed logins are rate-limited per client address -------------------------------------------


async def test_failed_logins_are_limited_per_client_address(keyed: Keyed) -> None:
    guesser = tab_of(keyed)
    for attempt in range(10):
        assert (await guesser.login(f"guess-{attempt}")).status_code == 401
    refused = await guesser.login()  # the right key, but the address is locked out for now
    assert refused.status_code == 429
    assert "Too many failed logins from your address" in refused.text
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert (await guesser.get("/dashboard/")).status_code == 303  # not logged in
    # Another address is not affected, and its own success clears nothing for the first.
    neighbour = tab_of(keyed, address="127.0.0.2")
    assert (await neighbour.login()).status_code == 303
    assert (await neighbour.get("/dashboard/")).status_code == 200
    assert (await guesser.login()).status_code == 429


def test_the_login_limiter_forgets_old_failures_and_stays_bounded() -> None:
    from layercache_asgi.dashboard._login_limit import LoginLimiter

    now = [1000.0]
    limiter = LoginLimiter(limit=3, window=60.0, max_clients=4, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.retry_after("a") == 0
        limiter.failed("a")
        now[0] += 10
    assert limiter.retry_after("a") == 30  # the first failure (at 1000) ages out at 1060; now is 1030
    now[0] += 30
    assert limiter.retry_after("a") == 0  # one attempt back
    limiter.failed("a")
    assert limiter.retry_after("a") == 10
    limiter.succeeded("a")
    assert limiter.retry_after("a") == 0
    for n in range(100):
        limiter.failed(f"10.0.0.{n}")
    assert len(limiter) == 4  # a flood of addresses does not grow memory


# -- the Origin check behind reverse proxies -----------------------------------------------------


async def test_posts_are_accepted_from_the_dashboards_own_origin_behind_a_proxy(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(
        proxy={"admin_api_key": KEY}, dashboard={"allowed_origins": ["https://listed.example:8443"]}
    )
    app = LayerCacheApp(settings)
    async with running(app):
        base = "http://dashboard.test:8321"  # a port of its own, as a served app has
        tab = Tab(app, base)
        await tab.login()
        token = await tab.token("config")
        host = base.removeprefix("http://")
        cases: list[tuple[dict[str, str], bool]] = [
            ({"origin": base}, True),  # no proxy: Origin names Host
            ({"origin": f"http://{host.upper()}"}, True),  # host names are case-insensitive
            ({"origin": "https://dash.example.com", "host": "10.0.0.5:8000"}, False),  # Host rewritten, unsaid
            (
                {"origin": "https://dash.example.com", "host": "10.0.0.5:8000", "x-forwarded-host": "dash.example.com"},
                True,  # TLS ends at the proxy: the scheme differs, host and (default) port match
            ),
            (
                {
                    "origin": "https://dash.example.com",
                    "host": "10.0.0.5",
                    "forwarded": 'for=1.2.3.4;host="dash.example.com";proto=https',
                },
                True,
            ),
            (
                {"origin": "https://dash.example.com:8443", "host": "10.0.0.5", "x-forwarded-host": "dash.example.com"},
                False,  # another port is another origin
            ),
            ({"origin": "https://evil.example", "host": "10.0.0.5", "x-forwarded-host": "dash.example.com"}, False),
            ({"origin": "https://listed.example:8443", "host": "10.0.0.5"}, True),  # dashboard.allowed_origins
            ({"origin": "http://listed.example:8443", "host": "10.0.0.5"}, False),  # a listed origin matches exactly
            ({"origin": "null"}, False),
        ]
        for timeout, (headers, accepted) in enumerate(cases, start=100):
            response = await tab.post(
                "/dashboard/config",
                data={"yaml": edited(app, upstream={"timeout": timeout}), "csrf_token": token},
                headers=headers,
            )
            assert response.status_code == (200 if accepted else 403), headers
            assert (app.runtime.settings.upstream.timeout == timeout) is accepted, headers
        # The token is still required whatever the origin.
        headers = {"origin": "https://listed.example:8443"}
        untokened = await tab.post("/dashboard/config", data={"yaml": "upstream: {timeout: 5}"}, headers=headers)
        assert untokened.status_code == 403


def test_allowed_origins_must_be_origins() -> None:
    assert Settings.model_validate({"dashboard": {"allowed_origins": ["https://a.example", "http://b:81/"]}})
    for bad in ("a.example", "https://a.example/dashboard", "ftp://a.example", "https://a.example:x"):
        with pytest.raises(ValueError, match="allowed_origins"):
            Settings.model_validate({"dashboard": {"allowed_origins": [bad]}})


# -- the config file is saved as written ---------------------------------------------------------

COMMENTED = """\
# Production proxy. Ask #platform before changing the timeouts.
proxy:
  admin_api_key: '{key}'   # rotated monthly
providers:
  openai: {{api_base: "{upstream}/v1"}}   # the fake provider
database:
  url: "{database_url}"
  auto_upgrade: true
caching:
  semantic: {{enabled: false, model_path: "{model}"}}
logging: {{format: console}}
upstream:
  num_retries: 0
  timeout: 600   # seconds
"""


async def test_a_config_save_keeps_the_files_comments_and_order_and_applies(
    tmp_path: Path, upstream: str, database_url: str, fake: FakeProvider
) -> None:
    config = tmp_path / "layercache.yaml"
    original = COMMENTED.format(key=KEY, upstream=upstream, database_url=database_url, model=MODEL_DIR)
    config.write_text(original, encoding="utf-8")
    config.chmod(0o600)
    app = LayerCacheApp(config, transport=httpx.ASGITransport(app=fake))
    async with running(app):
        tab = Tab(app)
        await tab.login()
        page = (await tab.get("/dashboard/config")).text
        shown = textarea_of(page)
        assert KEY not in page
        assert shown == original.replace(f"'{KEY}'", '"***hidden***"')  # the file as written, key hidden
        seen = re.search(r'name="file_fingerprint" value="([^"]+)"', page)
        assert seen is not None
        form = {"csrf_token": csrf_of(page), "file_fingerprint": seen.group(1)}

        # A change that does not validate: shown on the page, the file and the settings untouched.
        invalid = await tab.post(
            "/dashboard/config", data={**form, "yaml": shown.replace("timeout: 600", "timeout: -1")}
        )
        assert invalid.status_code == 400 and "upstream.timeout" in invalid.text
        assert config.read_text() == original and app.runtime.settings.upstream.timeout == 600

        # One value changed, sent the way a browser sends a textarea (CRLF line ends).
        edited = shown.replace("timeout: 600", "timeout: 42").replace("\n", "\r\n")
        saved = await tab.post("/dashboard/config", data={**form, "yaml": edited})
        assert saved.status_code == 200 and "Saved and applied" in saved.text
        assert config.read_text() == original.replace("timeout: 600", "timeout: 42")  # comments, order, the key
        assert config.stat().st_mode & 0o777 == 0o600
        assert app.runtime.settings.upstream.timeout == 42  # hot-reloaded
        assert textarea_of(saved.text) == shown.replace("timeout: 600", "timeout: 42")
        # The key still guards the management routes, and the file reloads to the same settings.
        assert (await Tab(app).post("/v1/config/reload")).status_code == 401
        reload = await Tab(app).post("/v1/config/reload", headers={"authorization": f"Bearer {KEY}"})
        assert reload.status_code == 200 and reload.json()["changed"] == []

        # A save based on an older copy of the file is refused rather than overwriting the newer one.
        config.write_text(config.read_text() + "# edited by hand\n", encoding="utf-8")
        stale = await tab.post("/dashboard/config", data={**form, "yaml": shown})
        assert stale.status_code == 409 and "changed since this page was loaded" in stale.text
        assert config.read_text().endswith("# edited by hand\n")

        # Replacing the placeholder sets a new key; the old one stops working.
        page = (await tab.get("/dashboard/config")).text
        new_key = "proxy-key-rotated-98765"
        rotated = textarea_of(page).replace('"***hidden***"', new_key)
        seen = re.search(r'name="file_fingerprint" value="([^"]+)"', page)
        assert seen is not None
        done = await tab.post(
            "/dashboard/config",
            data={"yaml": rotated, "csrf_token": csrf_of(page), "file_fingerprint": seen.group(1)},
        )
        assert done.status_code == 200 and "Saved and applied" in done.text
        assert (await tab.get("/dashboard/config")).status_code == 303  # sessions of the old key are logged out
        assert f"admin_api_key: {new_key}   # rotated monthly" in config.read_text()
        secret = app.runtime.settings.proxy.admin_api_key
        assert secret is not None and secret.get_secret_value() == new_key


async def test_a_config_save_that_empties_the_file_or_drops_sections_is_refused(
    tmp_path: Path, upstream: str, database_url: str, fake: FakeProvider
) -> None:
    config = tmp_path / "layercache.yaml"
    original = COMMENTED.format(key=KEY, upstream=upstream, database_url=database_url, model=MODEL_DIR)
    config.write_text(original, encoding="utf-8")
    app = LayerCacheApp(config, transport=httpx.ASGITransport(app=fake))
    async with running(app):
        tab = Tab(app)
        await tab.login()
        page = (await tab.get("/dashboard/config")).text
        seen = re.search(r'name="file_fingerprint" value="([^"]+)"', page)
        assert seen is not None
        form = {"csrf_token": csrf_of(page), "file_fingerprint": seen.group(1)}
        before = app.runtime.settings
        emptied = await tab.post("/dashboard/config", data={**form, "yaml": "# cleared\n"})
        assert emptied.status_code == 400 and "the file is empty" in emptied.text
        shown = textarea_of(page)
        without_providers = shown.replace(f'  openai: {{api_base: "{upstream}/v1"}}   # the fake provider\n', "")
        without_providers = without_providers.replace("providers:\n", "")
        dropped = await tab.post("/dashboard/config", data={**form, "yaml": without_providers})
        assert dropped.status_code == 400 and "sections providers are missing" in dropped.text
        assert config.read_text() == original and app.runtime.settings is before


def test_hidden_secrets_go_back_where_the_editor_put_them() -> None:
    from layercache_asgi._config import ConfigError
    from layercache_asgi.dashboard._config_text import hide_secrets, restore_secrets

    original = (
        "dashboard: {session_secret: 'abc def ghi'}  # flow style\n"
        "database:\n  url: postgresql+asyncpg://app:hunter22@db/layercache\n"
        "proxy:\n  proxy_api_key: |\n    sk-block-style\n  port: 9000\n"
    )
    shown = hide_secrets(original)
    assert "abc def" not in shown and "hunter22" not in shown and "sk-block" not in shown
    assert "app:***@db" in shown and "port: 9000" in shown
    assert yaml_load(restore_secrets(shown, original)) == yaml_load(original)
    moved = restore_secrets(shown.replace("port: 9000", "port: 9001"), original)
    assert yaml_load(moved)["proxy"] == {"proxy_api_key": "sk-block-style\n", "port": 9001}
    with pytest.raises(ConfigError, match=r"proxy\.proxy_api_key"):
        restore_secrets(shown, "proxy: {}\n")  # the file no longer has the value the placeholder stands for
    with pytest.raises(ConfigError, match="could not be hidden"):
        hide_secrets("base: &k sk-anchored-secret\nproxy: {proxy_api_key: *k}\n")


def test_reordering_hidden_client_keys_keeps_each_key_with_its_tenant() -> None:
    from layercache_asgi._config import ConfigError
    from layercache_asgi.dashboard._config_text import hide_secrets, restore_secrets
    from layercache_asgi.dashboard._settings_io import editor_yaml, settings_from_editor

    original = (
        "proxy:\n  client_keys:\n"
        "    - {key: sk-key-of-alpha, tenant: alpha}\n"
        "    - {key: sk-key-of-beta, tenant: beta}\n"
        "    - {key: sk-key-of-gamma, tenant: gamma}\n"
    )
    shown = hide_secrets(original)
    assert "sk-key-of" not in shown and '"***hidden #1***"' in shown and '"***hidden #3***"' in shown
    lines = shown.splitlines(keepends=True)
    # The editor's user swaps alpha and gamma and deletes beta: the keys follow their entries.
    edited = "".join([*lines[:2], lines[4], lines[2]])
    entries = yaml_load(restore_secrets(edited, original))["proxy"]["client_keys"]
    assert entries == [{"key": "sk-key-of-gamma", "tenant": "gamma"}, {"key": "sk-key-of-alpha", "tenant": "alpha"}]
    with pytest.raises(ConfigError, match=r"client_keys\.0\.key"):
        restore_secrets(shown.replace("***hidden #1***", "***hidden #7***"), original)

    # The effective-settings view (an app configured in code) does the same.
    current = Settings.model_validate(yaml_load(original))
    view = yaml_load(editor_yaml(current))
    view["proxy"]["client_keys"].reverse()
    restored = settings_from_editor(_yaml_dump(view), current).proxy.client_keys
    assert [(k.tenant, k.key and k.key.get_secret_value()) for k in restored] == [
        ("gamma", "sk-key-of-gamma"),
        ("beta", "sk-key-of-beta"),
        ("alpha", "sk-key-of-alpha"),
    ]


def yaml_load(text: str) -> Any:
    import yaml

    return yaml.safe_load(text)


@pytest.mark.postgres
async def test_templates_import_takes_pasted_text_and_refuses_files_that_are_not_text(keyed: Keyed) -> None:
    tab = tab_of(keyed)
    await tab.login()
    token = await tab.token("templates")
    pasted = await tab.post(
        "/dashboard/templates/import",
        data={"csrf_token": token, "document": '[{"name": "a", "system": "A"}, {"name": "b", "system": "B"}]'},
    )
    assert pasted.status_code == 200 and "Imported: a@1, b@1." in pasted.text
    again = await tab.post(
        "/dashboard/templates/import", data={"csrf_token": token, "document": "{name: a, system: A}"}
    )
    assert "Unchanged: a@1 is identical." in again.text
    binary = await tab.post(
        "/dashboard/templates/import",
        data={"csrf_token": token},
        files={"file": ("t.yaml", b"\xff\xfe name: x", "application/yaml")},
    )
    assert "Not imported: t.yaml is not UTF-8 text" in binary.text
    nothing = await tab.post("/dashboard/templates/import", data={"csrf_token": token, "document": "  "})
    assert "Choose a YAML or JSON file, or paste one." in nothing.text
    listed = (await tab_of(keyed).get("/v1/prompts/templates", headers={"authorization": f"Bearer {KEY}"})).json()
    assert sorted((t["name"], t["version"]) for t in listed["data"]) == [("a", 1), ("b", 1)]
