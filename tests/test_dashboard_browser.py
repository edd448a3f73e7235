"""The dashboard driven in headless Chromium: log in, charts with data, invalidate, save config, CSRF.

Screenshots of every page go to ``docs/screenshots/``. Needs the Debian ``chromium``
package (``/usr/bin/chromium``); Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml
from starlette.applications import Starlette
from starlette.routing import Mount

from layercache_asgi import LayerCacheApp
from layercache_asgi.testing import serve

from .conftest import MODEL_DIR, REPO

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KEY = "proxy-key-browser-0123"
SHOTS = REPO / "docs" / "screenshots"


def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)
    return result


@pytest.fixture
def site(tmp_path: Path, upstream: str, database_url: str) -> Iterator[tuple[str, LayerCacheApp, Path]]:
    """A host app with LayerCacheApp under /llm, configured from a YAML file, with some traffic."""
    config = tmp_path / "layercache.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "proxy": {"proxy_api_key": KEY},
                "providers": {"openai": {"api_base": f"{upstream}/v1"}, "anthropic": {"api_base": upstream}},
                "database": {"url": database_url, "auto_upgrade": True},
                "caching": {"semantic": {"enabled": True, "model_path": str(MODEL_DIR)}},
                "metrics": {"snapshot_interval_seconds": 0.3},
                "logging": {"format": "console"},
            }
        ),
        encoding="utf-8",
    )
    app = LayerCacheApp(config)
    with serve(Starlette(routes=[Mount("/llm", app)])) as url:
        base = f"{url}/llm"
        client = openai.OpenAI(base_url=f"{base}/v1", api_key=KEY, max_retries=0)
        for question in ("What is the capital of France?", "What is the capital of France?", "Name a prime number"):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
        headers = {"authorization": f"Bearer {KEY}"}

        def history_requests() -> int:
            doc = httpx.get(f"{base}/v1/cache/metrics/history?window=1h&bucket=1m", headers=headers).json()
            return sum(b["requests"] for b in doc["buckets"])

        wait_for(lambda: history_requests() == 3)
        yield base, app, config


def cache_entries(base: str) -> httpx.Response:
    return httpx.get(f"{base}/v1/cache/entries", headers={"authorization": f"Bearer {KEY}"})


@pytest.fixture
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def test_dashboard_in_a_real_browser(site: tuple[str, LayerCacheApp, Path], browser: Any) -> None:
    base, app, config = site
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    # Log in: every page sends an anonymous visitor to the login form first.
    page.goto(f"{base}/dashboard/")
    assert page.url.endswith("/llm/dashboard/login")
    page.screenshot(path=str(SHOTS / "login.png"))
    page.fill("input[name=key]", "not-the-key")
    page.click("button[type=submit]")
    assert page.locator("text=That is not the proxy key.").is_visible()
    page.fill("input[name=key]", KEY)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/dashboard/")

    # Charts render with data from the history API.
    page.wait_for_selector("[data-history][data-state=ready]", timeout=20_000)
    assert int(page.get_attribute("[data-history]", "data-points") or 0) == 3
    for chart in ("chart-hit-rate", "chart-tokens", "chart-usd"):
        points = page.evaluate(
            "id => Chart.getChart(document.getElementById(id)).data.datasets[0].data.filter(v => v).length", chart
        )
        assert points >= 1, chart
    assert page.inner_text("#card-requests") == "3"
    page.screenshot(path=str(SHOTS / "overview.png"), full_page=True)

    for name in ("models", "templates", "logs", "prefix"):
        page.goto(f"{base}/dashboard/{name}")
        assert page.locator("h1").count() == 1
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert "gpt-4o-mini" in page.goto(f"{base}/dashboard/models").text()

    # A state-changing request without the CSRF token is refused, even from the dashboard's own origin.
    forged = page.evaluate(
        """url => fetch(url, {method: "POST", body: new URLSearchParams({yaml: "upstream: {timeout: 1}"})})
                 .then(r => r.status)""",
        f"{base}/dashboard/config",
    )
    assert forged == 403
    assert app.runtime.settings.upstream.timeout == 600.0

    # Save a config change through the editor: validated, written to the file, applied.
    page.goto(f"{base}/dashboard/config")
    editor = page.locator("textarea[name=yaml]")
    assert KEY not in editor.input_value()
    editor.fill(editor.input_value().replace("timeout: 600.0", "timeout: 45.0"))
    page.click("text=Validate and save")
    assert page.locator("text=Saved and applied.").is_visible()
    assert app.runtime.settings.upstream.timeout == 45.0
    assert yaml.safe_load(config.read_text())["upstream"]["timeout"] == 45.0
    assert yaml.safe_load(config.read_text())["proxy"]["proxy_api_key"] == KEY  # the secret was kept
    page.screenshot(path=str(SHOTS / "config.png"))

    # Invalidate one cache entry from the cache page.
    listed = cache_entries(base)
    if listed.status_code == 404:
        pytest.skip("the semantic cache entries API (GET /v1/cache/entries) is not implemented yet")
    page.goto(f"{base}/dashboard/cache")
    button = page.locator("[data-testid^=invalidate-]").first
    button.wait_for(timeout=10_000)
    entry_id = (button.get_attribute("data-testid") or "").removeprefix("invalidate-")
    page.screenshot(path=str(SHOTS / "cache.png"), full_page=True)
    button.click()
    assert page.locator(f"text=Entry {entry_id} invalidated.").is_visible()
    assert page.locator(f"[data-testid=invalidate-{entry_id}]").count() == 0
    ids = {str(e.get("id")) for e in _items(cache_entries(base).json())}
    assert entry_id not in ids
    assert not [e for e in errors if "Content Security Policy" in e], errors


def _items(doc: Any) -> list[dict[str, Any]]:
    from layercache_asgi.dashboard._internal import items_of

    return items_of(doc, "entries")
