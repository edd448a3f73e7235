"""examples/django_app: a Django project whose asgi.py mounts the proxy at /llm."""
# On sockets: the example Django project served as its users run it.

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.integrations import MountDispatcher
from layercache_asgi.integrations.django import layercache_settings
from layercache_asgi.testing import FakeProvider, serve
from tests._hosted import (
    check_dashboard,
    check_openai,
    check_sdks,
    check_semantic_hit,
    run_documented_command,
    write_config,
)

PROJECT = Path(__file__).resolve().parents[1] / "examples" / "django_app"


@pytest.fixture(scope="module")
def asgi_module() -> Iterator[ModuleType]:
    # Django is configured once per process; this module is the only Django user in the suite.
    sys.path.insert(0, str(PROJECT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "mysite.settings"
    try:
        yield importlib.import_module("mysite.asgi")  # builds `application`: no I/O, no start-up
    finally:
        sys.path.remove(str(PROJECT))


def _application(asgi_module: ModuleType, settings: Settings) -> tuple[MountDispatcher, LayerCacheApp]:
    """The example's application, with LAYERCACHE pointing the providers at the fake."""
    from django.test import override_settings  # type: ignore[import-untyped]

    with override_settings(LAYERCACHE=settings.model_dump(mode="json")):
        application: MountDispatcher = asgi_module.build_application()
    assert isinstance(application.app, LayerCacheApp)
    return application, application.app


def test_django_and_the_proxy_share_one_server(asgi_module: ModuleType, settings: Settings) -> None:
    application, llm = _application(asgi_module, settings)
    with serve(application) as base:
        assert llm.runtime.settings.database.url == settings.database.url  # from Django's LAYERCACHE
        assert "My site" in httpx.get(f"{base}/").text
        items = httpx.get(f"{base}/items/").json()
        assert items == {"items": [{"id": 1, "name": "widget"}, {"id": 2, "name": "gear"}], "script_name": ""}
        assert httpx.get(f"{base}/items", follow_redirects=False).status_code == 301  # Django's own APPEND_SLASH
        assert httpx.get(f"{base}/llmx/").status_code == 404  # a lookalike prefix is Django's, not the proxy's
        check_sdks(base)
    with pytest.raises(RuntimeError):
        llm.runtime  # noqa: B018 -- the server's lifespan shutdown reached the proxy, not Django


@pytest.mark.postgres
def test_semantic_cache_hit_under_the_mount(
    asgi_module: ModuleType, make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    application, llm = _application(asgi_module, make_settings(caching={"semantic": {"enabled": True}}))
    with serve(application) as base:
        check_semantic_hit(base, llm, fake)


def test_dashboard_under_the_mount(asgi_module: ModuleType, settings: Settings) -> None:
    application, llm = _application(asgi_module, settings)
    with serve(application) as base:
        check_dashboard(base, llm)


def test_lazy_start_without_lifespan_events(asgi_module: ModuleType, settings: Settings) -> None:
    application, llm = _application(asgi_module, settings)
    with serve(application, lifespan="off") as base:
        with pytest.raises(RuntimeError):
            llm.runtime  # noqa: B018 -- no lifespan events: not started yet
        assert httpx.get(f"{base}/llm/health").json()["status"] == "healthy"  # started by the first request
        assert llm.runtime.settings.database.url == settings.database.url
        assert httpx.get(f"{base}/items/").status_code == 200


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"logging": {"level": "DEBUG"}}, "DEBUG"),
        ("/etc/layercache.yaml", "/etc/layercache.yaml"),
        (None, None),
    ],
)
def test_layercache_setting_forms(asgi_module: ModuleType, value: Any, expected: str | None) -> None:
    from django.test import override_settings

    with override_settings(LAYERCACHE=value):
        found = layercache_settings()
    assert (found.logging.level if isinstance(found, Settings) else found) == expected


def test_layercache_setting_must_validate(asgi_module: ModuleType) -> None:
    from django.test import override_settings
    from pydantic import ValidationError

    with override_settings(LAYERCACHE={"upstream": {"timeout": -1}}), pytest.raises(ValidationError):
        layercache_settings()
    with override_settings(LAYERCACHE=42), pytest.raises(TypeError):
        layercache_settings()


def test_the_documented_command(tmp_path: Path, upstream: str, database_url: str) -> None:
    config = write_config(tmp_path, upstream, database_url)  # settings.LAYERCACHE takes $LAYERCACHE_CONFIG
    with run_documented_command(PROJECT / "README.md", config) as base:
        assert httpx.get(f"{base}/items/").json()["items"][0] == {"id": 1, "name": "widget"}
        assert httpx.get(f"{base}/llm/health").json()["status"] == "healthy"
        check_openai(base)
