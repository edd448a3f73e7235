"""Hot reload: POST /v1/config/reload re-reads the config file; in-flight requests keep their settings."""
# On sockets: its upstream timeouts are enforced by httpx's network transport (ASGITransport has none).

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, serve

from .conftest import ADMIN, ADMIN_KEY, MODEL_DIR


class ConfigFile:
    """The YAML file an app is built from; ``write(**changes)`` edits it like an operator would."""

    def __init__(self, path: Path, upstream: str, database_url: str) -> None:
        self.path = path
        self.data: dict[str, Any] = {
            "proxy": {"admin_api_key": ADMIN_KEY},
            "providers": {"openai": {"api_base": f"{upstream}/v1"}, "anthropic": {"api_base": upstream}},
            "database": {"url": database_url, "auto_upgrade": True},
            "caching": {"semantic": {"enabled": False, "model_path": str(MODEL_DIR)}},
            "logging": {"format": "console"},
        }
        self.write()

    def write(self, **sections: dict[str, Any]) -> None:
        for name, values in sections.items():
            self.data.setdefault(name, {}).update(values)
        self.path.write_text(yaml.safe_dump(self.data), encoding="utf-8")


@pytest.fixture
def config(tmp_path: Path, upstream: str, database_url: str) -> ConfigFile:
    return ConfigFile(tmp_path / "layercache.yaml", upstream, database_url)


def chat(proxy: str, text: str = "hi", key: str = "sk-test-1") -> httpx.Response:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
    return httpx.post(f"{proxy}/v1/chat/completions", json=body, headers={"authorization": f"Bearer {key}"}, timeout=30)


def reload(proxy: str, **headers: str) -> httpx.Response:
    """POST /v1/config/reload with the admin key, unless ``headers`` say otherwise."""
    return httpx.post(f"{proxy}/v1/config/reload", headers=headers or ADMIN)


def test_upstream_timeout_and_retries_change_without_a_restart(config: ConfigFile, fake: FakeProvider) -> None:
    with serve(LayerCacheApp(config.path)) as proxy:
        fake.delay = 0.6
        assert chat(proxy).status_code == 200  # the default timeout is generous

        config.write(upstream={"timeout": 0.2})
        result = reload(proxy)
        assert result.status_code == 200 and result.json()["changed"] == ["upstream.timeout"]
        timed_out = chat(proxy)
        assert timed_out.status_code == 504 and "timed out" in timed_out.json()["error"]["message"]

        fake.delay = 0.0
        time.sleep(0.6)  # the fake still sleeps on the timed-out call: let it finish before fail_next is set
        config.write(upstream={"timeout": 30, "num_retries": 1})
        assert reload(proxy).status_code == 200
        before = len(fake.requests)
        fake.fail_next = [500]
        assert chat(proxy).status_code == 200  # retried once on the same deployment
        assert len(fake.requests) - before == 2


def test_a_request_in_flight_keeps_the_settings_it_started_with(config: ConfigFile, fake: FakeProvider) -> None:
    with serve(LayerCacheApp(config.path)) as proxy:
        fake.delay = 1.0
        results: list[int] = []
        worker = threading.Thread(target=lambda: results.append(chat(proxy, "slow").status_code))
        worker.start()
        deadline = time.monotonic() + 20
        while not fake.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        config.write(upstream={"timeout": 0.1})
        assert reload(proxy).status_code == 200
        worker.join(30)
        assert results == [200]  # started under the old timeout, finished under it
        assert chat(proxy, "after").status_code == 504


def test_log_level_prompts_and_semantic_threshold_are_swapped_in(config: ConfigFile) -> None:
    app = LayerCacheApp(config.path)
    with serve(app) as proxy:
        assert chat(proxy).status_code == 200
        logs = app.runtime.logs
        assert logs is not None and logs.level == logging.INFO
        config.write(
            logging={"level": "DEBUG", "log_prompts": True},
            caching={
                "semantic": {
                    "enabled": False,
                    "model_path": str(MODEL_DIR),
                    "similarity_threshold": 0.97,
                    "default_ttl": 60,
                }
            },
        )
        changed = reload(proxy).json()["changed"]
        assert {"logging.level", "logging.log_prompts", "caching.semantic.similarity_threshold"} <= set(changed)
        assert logs.level == logging.DEBUG and logs.log_prompts
        assert logging.getLogger("layercache").getEffectiveLevel() == logging.DEBUG
        assert app.runtime.settings.caching.semantic.similarity_threshold == 0.97
        assert app.runtime.settings.caching.semantic.default_ttl == 60


def test_an_invalid_file_is_refused_and_nothing_changes(config: ConfigFile) -> None:
    app = LayerCacheApp(config.path)
    with serve(app) as proxy:
        assert chat(proxy).status_code == 200
        before = app.runtime.settings
        config.write(upstream={"timeout": -5})
        refused = reload(proxy)
        assert refused.status_code == 400 and "upstream.timeout" in refused.json()["error"]["message"]
        config.path.write_text("upstream: [not, a, mapping", encoding="utf-8")
        assert reload(proxy).status_code == 400
        assert app.runtime.settings is before


def test_an_empty_or_half_written_file_is_refused_and_the_running_settings_stay(
    config: ConfigFile, fake: FakeProvider
) -> None:
    config.data["models"] = [{"name": "smart", "model": "openai/gpt-4o-mini"}]
    config.write()
    app = LayerCacheApp(config.path)
    with serve(app) as proxy:
        before = app.runtime.settings
        for text in ("", "# nothing yet\n", "~\n"):
            config.path.write_text(text, encoding="utf-8")
            refused = reload(proxy)
            assert refused.status_code == 400 and "empty" in refused.json()["error"]["message"]
        # What an editor's interrupted write leaves: the first sections only.
        half = {k: v for k, v in config.data.items() if k not in ("providers", "models")}
        config.path.write_text(yaml.safe_dump(half), encoding="utf-8")
        refused = reload(proxy)
        assert refused.status_code == 400
        assert "sections models, providers are missing" in refused.json()["error"]["message"]
        assert app.runtime.settings is before
        body = {"model": "smart", "messages": [{"role": "user", "content": "still routed"}]}
        answer = httpx.post(f"{proxy}/v1/chat/completions", json=body, headers={"authorization": "Bearer sk-1"})
        assert answer.status_code == 200 and fake.requests[-1].body["model"] == "gpt-4o-mini"
        # Dropping a section on purpose: write it empty.
        config.path.write_text(yaml.safe_dump({**half, "models": [], "providers": config.data["providers"]}))
        accepted = reload(proxy)
        assert accepted.status_code == 200 and "models" in accepted.json()["changed"]
        assert app.runtime.settings.models == []


def test_an_empty_file_stops_start_up(tmp_path: Path) -> None:
    empty = tmp_path / "layercache.yaml"
    empty.write_text("# to be filled in\n", encoding="utf-8")
    # lifespan off: a mounted app starts on its first request (with lifespan on, uvicorn itself exits).
    with serve(LayerCacheApp(empty), lifespan="off") as proxy:
        response = chat(proxy)
    assert response.status_code == 503 and "the file is empty" in response.json()["error"]["message"]


def test_settings_read_only_at_start_are_reported_as_needing_a_restart(config: ConfigFile, tmp_path: Path) -> None:
    with serve(LayerCacheApp(config.path)) as proxy:
        config.write(database={"url": f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"})
        result = reload(proxy).json()
        assert result["restart_required"] == ["database.url"]


def test_reload_needs_the_admin_key_not_a_client_key(config: ConfigFile) -> None:
    config.write(proxy={"proxy_api_key": "proxy-key-42"})
    with serve(LayerCacheApp(config.path)) as proxy:
        assert reload(proxy, **{"x-nothing": "1"}).status_code == 401
        assert reload(proxy, authorization="Bearer nope").status_code == 401
        assert reload(proxy, authorization="Bearer proxy-key-42").status_code == 401
        assert reload(proxy, authorization=f"Bearer {ADMIN_KEY}").status_code == 200


def test_without_an_admin_key_reload_is_off(config: ConfigFile, monkeypatch: pytest.MonkeyPatch) -> None:
    config.write(proxy={"admin_api_key": None})
    monkeypatch.delenv("LAYERCACHE_ADMIN_KEY", raising=False)
    with serve(LayerCacheApp(config.path)) as proxy:
        refused = reload(proxy, authorization="Bearer anything")
        assert refused.status_code == 403 and "proxy.admin_api_key" in refused.json()["error"]["message"]
        monkeypatch.setenv("LAYERCACHE_ADMIN_KEY", "admin-from-the-environment")
        assert reload(proxy, authorization="Bearer admin-from-the-environment").status_code == 200


def test_an_app_configured_in_code_has_no_file_to_reload(settings: Settings) -> None:
    with serve(LayerCacheApp(settings)) as proxy:
        refused = reload(proxy)
        assert refused.status_code == 409 and "not built from a config file" in refused.json()["error"]["message"]
