"""The dashboard driven in headless Chromium: log in, charts with data, invalidate, config, templates, CSRF.

Screenshots of every page go to ``tests/artifacts/screenshots/`` (git-ignored; or
``$LAYERCACHE_ARTIFACTS_DIR/screenshots/``). With ``LAYERCACHE_UPDATE_SCREENSHOTS=1`` they
are also copied to ``docs/screenshots/``, the ones the README shows. Needs the Debian
``chromium`` package (``/usr/bin/chromium``); Playwright's own browser download is never used.
"""
# On sockets: drives headless Chromium.

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, serve

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
KEY = "admin-key-browser-0123"  # the admin key: the dashboard login
CLIENT_KEY = "proxy-key-browser-0123"  # what the clients send
ARTIFACTS = Path(os.environ.get("LAYERCACHE_ARTIFACTS_DIR") or REPO / "tests" / "artifacts")
DOCS_SHOTS = REPO / "docs" / "screenshots"
# A config file as a person writes one: comments and key order must survive a save from the dashboard.
CONFIG = """\
# LayerCache for the browser test.
proxy:
  proxy_api_key: {client_key}   # what the clients send
  admin_api_key: {key}   # the dashboard login
providers:
  openai: {{api_base: "{upstream}/v1"}}
  anthropic: {{api_base: "{upstream}"}}
database: {{url: "{database_url}", auto_upgrade: true}}
caching:
  semantic: {{enabled: true, model_path: "{model}"}}
upstream:
  timeout: 600   # seconds; long answers stream slowly
fallbacks: {{claude-sonnet-4-5: [claude-haiku-4-5]}}
metrics: {{snapshot_interval_seconds: 0.3}}
logging: {{format: console}}
"""


def shoot(page: Any, name: str, *, full_page: bool = False) -> Path:
    """Screenshot into the artifacts folder; into docs/ too when LAYERCACHE_UPDATE_SCREENSHOTS=1."""
    path = ARTIFACTS / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 0
    if os.environ.get("LAYERCACHE_UPDATE_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SHOTS / path.name)
    return path


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
    text = CONFIG.format(key=KEY, client_key=CLIENT_KEY, upstream=upstream, database_url=database_url, model=MODEL_DIR)
    config.write_text(text, encoding="utf-8")
    app = LayerCacheApp(config)
    with serve(Starlette(routes=[Mount("/llm", app)])) as url:
        base = f"{url}/llm"
        client = openai.OpenAI(base_url=f"{base}/v1", api_key=CLIENT_KEY, max_retries=0)
        for question in ("What is the capital of France?", "What is the capital of France?", "Name a prime number"):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
        headers = {"authorization": f"Bearer {KEY}"}

        def history_requests() -> int:
            doc = httpx.get(f"{base}/v1/cache/metrics/history?window=1h&bucket=1m", headers=headers).json()
            return sum(b["requests"] for b in doc["buckets"])

        wait_for(lambda: history_requests() == 3)
        yield base, app, config


def send_changing_prefixes(base: str, fake: FakeProvider) -> None:
    """A billing-header line that changes every turn, a changed tool, then a failover to another model
    (which only the provider sees): what the prefix page explains."""
    claude = anthropic.Anthropic(base_url=base, api_key=CLIENT_KEY, max_retries=0)
    rules = "You are a coding agent. Follow the repository's conventions. " * 30
    tools: Any = [
        {"name": n, "description": f"The {n} tool.", "input_schema": {"type": "object"}} for n in ("bash", "edit")
    ]
    turns = (
        ("fa690", "The edit tool."),
        ("0aaa9", "The edit tool."),
        ("0aaa9", "Edits files."),
        ("0aaa9", "Edits files."),
    )
    for turn, (cch, description) in enumerate(turns):
        fake.fail_next = [500] if turn == 3 else []
        system: Any = [
            {
                "type": "text",
                "text": f"x-anthropic-billing-header: cc_version=2.1.37.0d9; cc_entrypoint=cli; cch={cch};",
            },
            {"type": "text", "text": rules},
        ]
        described: Any = {**tools[1], "description": description}
        claude.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=20,
            system=system,
            tools=[*tools[:1], described],
            messages=[{"role": "user", "content": "Now run the linter." if turn == 3 else "Fix the failing test."}],
        )


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


def test_dashboard_in_a_real_browser(site: tuple[str, LayerCacheApp, Path], browser: Any, fake: FakeProvider) -> None:
    base, app, config = site
    original = config.read_text()
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    # Log in: every page sends an anonymous visitor to the login form first.
    page.goto(f"{base}/dashboard/")
    assert page.url.endswith("/llm/dashboard/login")
    shoot(page, "login")
    page.fill("input[name=key]", "not-the-key")
    page.click("button[type=submit]")
    assert page.locator("text=That is not the admin key.").is_visible()
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
    shoot(page, "overview", full_page=True)

    # Claude Code-like traffic whose prefix changes: the prefix page shows the provider's reason beside the proxy's.
    send_changing_prefixes(base, fake)
    for name in ("models", "logs", "prefix"):
        page.goto(f"{base}/dashboard/{name}")
        assert page.locator("h1").count() == 1
        if name == "prefix":
            causes = page.inner_text("[data-testid=prefix-causes]")
            assert "system_changed" in causes and "tools_changed" in causes and "disagrees" in causes
            assert "volatile: billing header in system[0] at byte 0" in causes  # where, per cause
            latest = page.inner_text("[data-testid=prefix-where]")
            assert "volatile: billing header in system[0] at byte 0" in latest
        shoot(page, name, full_page=True)
    assert "gpt-4o-mini" in page.goto(f"{base}/dashboard/models").text()

    # A state-changing request without the CSRF token is refused, even from the dashboard's own origin.
    forged = page.evaluate(
        """url => fetch(url, {method: "POST", body: new URLSearchParams({yaml: "upstream: {timeout: 1}"})})
                 .then(r => r.status)""",
        f"{base}/dashboard/config",
    )
    assert forged == 403
    assert app.runtime.settings.upstream.timeout == 600.0

    # The config editor shows the file as written, the key hidden; a save keeps every other byte and applies.
    page.goto(f"{base}/dashboard/config")
    editor = page.locator("textarea[name=yaml]")
    shown = editor.input_value()
    assert KEY not in shown and 'admin_api_key: "***hidden***"   # the dashboard login' in shown
    assert CLIENT_KEY not in shown and 'proxy_api_key: "***hidden***"   # what the clients send' in shown
    editor.fill(shown.replace("timeout: 600", "timeout: 45"))
    page.click("text=Validate and save")
    assert page.locator("text=Saved and applied.").is_visible()
    shoot(page, "config")
    assert app.runtime.settings.upstream.timeout == 45.0
    assert config.read_text() == original.replace("timeout: 600", "timeout: 45")  # comments, order, the key

    # Invalidate one cache entry from the cache page.
    listed = cache_entries(base)
    if listed.status_code == 404:
        pytest.skip("the semantic cache entries API (GET /v1/cache/entries) is not implemented yet")
    page.goto(f"{base}/dashboard/cache")
    button = page.locator("[data-testid^=invalidate-]").first
    button.wait_for(timeout=10_000)
    entry_id = (button.get_attribute("data-testid") or "").removeprefix("invalidate-")
    shoot(page, "cache", full_page=True)
    button.click()
    assert page.locator(f"text=Entry {entry_id} invalidated.").is_visible()
    assert page.locator(f"[data-testid=invalidate-{entry_id}]").count() == 0
    ids = {str(e.get("id")) for e in _items(cache_entries(base).json())}
    assert entry_id not in ids

    # A near miss the guard refuses is listed under the refused candidates, its text hidden (log_prompts off).
    client = openai.OpenAI(base_url=f"{base}/v1", api_key=CLIENT_KEY, max_retries=0)
    for question in ("Is it safe to eat raw eggs?", "Is it unsafe to eat raw eggs?"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
    page.goto(f"{base}/dashboard/cache")
    refused = page.locator("[data-testid=refusals] tbody tr")
    assert refused.count() == 1
    cells = refused.first.locator("td").all_inner_texts()
    # The reason is the guard's code (today "opposites"), never its wording, which quotes the question.
    assert cells[2] == "gpt-4o-mini" and float(cells[3]) >= 0.85 and re.fullmatch(r"[a-z_]+", cells[4]), cells
    assert "eggs" not in page.inner_text("[data-testid=refusals]")
    shoot(page, "cache_refusals", full_page=True)
    assert not [e for e in errors if "Content Security Policy" in e], errors


def _items(doc: Any) -> list[dict[str, Any]]:
    from layercache_asgi.dashboard._internal import items_of

    return items_of(doc, "entries")


# -- the templates page against the real template store ------------------------------------------

GREETERS = """\
# An export-style file: the versions in it are ignored, the store numbers its own.
templates:
  - name: greeter
    version: 7
    system: Greet the user by name.
  - name: coder
    system: You write Python.
    enhancements: [chain_of_thought]
"""


@pytest.fixture
def templates_site(make_settings: Callable[..., Settings]) -> Iterator[tuple[str, Settings]]:
    settings = make_settings(proxy={"proxy_api_key": CLIENT_KEY, "admin_api_key": KEY})
    with serve(Starlette(routes=[Mount("/llm", LayerCacheApp(settings))])) as url:
        yield f"{url}/llm", settings


def stored(base: str, name: str = "") -> httpx.Response:
    """What the template API (and so the database behind it) holds."""
    return httpx.get(f"{base}/v1/prompts/templates/{name}".rstrip("/"), headers={"authorization": f"Bearer {KEY}"})


def stored_names(base: str) -> dict[str, int]:
    doc = stored(base).json()
    assert doc["persistent"] is True  # the database store, not the in-memory fallback
    return {t["name"]: t["version"] for t in doc["data"]}


def log_in(page: Any, base: str) -> None:
    page.goto(f"{base}/dashboard/login")
    page.fill("input[name=key]", KEY)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/dashboard/")


def flash(page: Any) -> str:
    return str(page.locator(".flash").first.inner_text())


@pytest.mark.postgres
def test_templates_page_creates_edits_imports_and_deletes_in_the_store(
    templates_site: tuple[str, Settings], browser: Any, fake: FakeProvider, tmp_path: Path
) -> None:
    base, settings = templates_site
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    log_in(page, base)
    page.goto(f"{base}/dashboard/templates")
    assert page.locator("text=No templates yet.").is_visible()

    # Create.
    tools = [{"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object"}}}]
    page.fill("#editor input[name=name]", "support")
    page.fill("#editor input[name=description]", "Support persona")
    page.fill("#editor textarea[name=system]", "You are Acme's support assistant.")
    page.fill("#editor textarea[name=context]", "Acme sells anvils.")
    page.fill("#editor textarea[name=tools]", json.dumps(tools))
    page.fill("#editor textarea[name=enhancements]", '["chain_of_thought"]')
    page.click("#editor button[type=submit]")
    assert flash(page) == "Saved support@1."
    support = stored(base, "support").json()
    assert (support["version"], support["system"], support["context"]) == (
        1,
        "You are Acme's support assistant.",
        "Acme sells anvils.",
    )
    assert support["tools"] == tools and [e["name"] for e in support["enhancements"]] == ["chain_of_thought"]

    # Edit: the form comes filled in; saving adds version 2 and keeps version 1.
    page.click("[data-testid=edit-support]")
    assert page.input_value("#editor textarea[name=context]") == "Acme sells anvils."
    assert json.loads(page.input_value("#editor textarea[name=tools]")) == tools
    page.fill("#editor textarea[name=system]", "You are Acme's support assistant. Be brief.")
    page.click("#editor button[type=submit]")
    assert flash(page) == "Saved support@2."
    support = stored(base, "support").json()
    assert (support["version"], support["versions"]) == (2, [1, 2])
    assert support["system"] == "You are Acme's support assistant. Be brief." and support["tools"] == tools
    assert stored(base, "support?version=1").json()["system"] == "You are Acme's support assistant."

    # Import a YAML file of two templates, then a JSON file of one.
    yaml_file = tmp_path / "greeters.yaml"
    yaml_file.write_text(GREETERS, encoding="utf-8")
    page.set_input_files("input[name=file]", str(yaml_file))
    page.click("#import button[type=submit]")
    assert flash(page) == "Imported: greeter@1, coder@1."
    json_file = tmp_path / "summarizer.json"
    json_file.write_text(json.dumps({"name": "summarizer", "system": "Summarize in one line."}), encoding="utf-8")
    page.set_input_files("input[name=file]", str(json_file))
    page.click("#import button[type=submit]")
    assert flash(page) == "Imported summarizer@1."
    assert stored_names(base) == {"support": 2, "greeter": 1, "coder": 1, "summarizer": 1}
    assert stored(base, "coder").json()["enhancements"][0]["name"] == "chain_of_thought"

    # A file with one bad template imports nothing at all.
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "- {name: fine-one, system: ok}\n- {name: broken, tools: [{description: no name}]}\n", encoding="utf-8"
    )
    page.set_input_files("input[name=file]", str(bad))
    page.click("#import button[type=submit]")
    assert flash(page).startswith("Not imported:") and "tools" in flash(page)
    assert "fine-one" not in stored_names(base)

    # Delete.
    page.click("[data-testid=delete-greeter]")
    assert flash(page) == "Template greeter deleted."
    assert stored(base, "greeter").status_code == 404
    assert stored_names(base) == {"support": 2, "coder": 1, "summarizer": 1}
    assert page.locator("[data-testid=delete-greeter]").count() == 0
    shoot(page, "templates", full_page=True)

    # A request naming the template gets the edited version's system prompt.
    client = openai.OpenAI(base_url=f"{base}/v1", api_key=CLIENT_KEY, max_retries=0)
    answer = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Where is my anvil?"}],
        extra_body={"lc_template": "support", "lc_bypass_cache": True},
    )
    assert answer.headers["x-layercache-template"] == "support@2"
    sent = fake.requests[-1].body["messages"]
    assert sent[0] == {"role": "system", "content": "You are Acme's support assistant. Be brief."}

    # It was the database: a second app on the same database sees the same templates.
    with serve(LayerCacheApp(settings)) as other:
        assert stored_names(other) == {"support": 2, "coder": 1, "summarizer": 1}
