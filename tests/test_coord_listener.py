"""The listening connection of each replica: config reloads and invalidations travel, a lost connection
comes back and reloads.

Two apps in this process on one PostgreSQL database stand for two replicas (each has its own
listener, semantic index and template cache). PostgreSQL only.
"""
# On sockets: two replicas, each its own served app, on one PostgreSQL.

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.coord._coordinator import LISTENER_NAME
from layercache_asgi.testing import FakeProvider, serve
from tests.conftest import ADMIN, TEST_DB

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(TEST_DB != "postgres", reason="replicas listen through PostgreSQL: LAYERCACHE_TEST_DB=postgres"),
]


def _until(seconds: float, check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _drop_listeners(url: str) -> int:
    """Terminate the listening connections on this database, as a database restart would."""

    async def run() -> int:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                query = (
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name AND datname = current_database()"
                )
                return int((await conn.execute(text(query), {"name": LISTENER_NAME})).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _template_in_use(base: str, fake: FakeProvider, name: str) -> str:
    client = openai.OpenAI(base_url=f"{base}/v1", api_key="sk-listener-test", max_retries=0)
    client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "which rules?"}], extra_body={"lc_template": name}
    )
    return json.dumps(fake.requests[-1].body)


def _save(base: str, name: str, version: str) -> None:
    doc = {"name": name, "system": f"Rules, version {version}."}
    assert httpx.post(f"{base}/v1/prompts/templates", json=doc, headers=ADMIN).status_code == 201


def test_a_config_reload_through_one_replica_reaches_the_other(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    config = tmp_path / "layercache.yaml"
    document: dict[str, Any] = json.loads(make_settings().model_dump_json(exclude_unset=True))
    document["proxy"]["admin_api_key"] = ADMIN["authorization"].split()[1]
    config.write_text(yaml.safe_dump(document))
    one, two = LayerCacheApp(config), LayerCacheApp(config)
    with serve(one) as a, serve(two) as b:
        assert httpx.get(f"{b}/health").status_code == 200
        assert two.settings.caching.warmup_wait_seconds == 5
        document.setdefault("caching", {})["warmup_wait_seconds"] = 7
        config.write_text(yaml.safe_dump(document))
        assert httpx.post(f"{a}/v1/config/reload", headers=ADMIN).json()["changed"] == ["caching.warmup_wait_seconds"]
        assert _until(1.0, lambda: two.settings.caching.warmup_wait_seconds == 7)


def test_a_lost_listener_reconnects_and_reloads_what_it_missed(
    make_settings: Callable[..., Settings], fake: FakeProvider, database_url: str
) -> None:
    one, two = LayerCacheApp(make_settings()), LayerCacheApp(make_settings())
    with serve(one) as a, serve(two) as b:
        _save(a, "house-rules", "one")
        assert "version one" in _template_in_use(b, fake, "house-rules")  # cached by the second replica now
        coord = two.runtime.coord
        assert coord is not None
        listener = coord.listener
        connect = listener._connect
        refused = threading.Event()

        async def refuse() -> Any:  # the database stays unreachable for the second replica's listener
            refused.set()
            raise OSError("connection refused")

        listener._connect = refuse
        assert _drop_listeners(database_url) == 2
        assert _until(5.0, refused.is_set) and not coord.listening
        _save(a, "house-rules", "two")  # its notification is lost on the second replica
        time.sleep(0.3)
        listener._connect = connect  # the database is back: it reconnects and reloads in full
        assert _until(15.0, lambda: coord.listening)
        assert _until(1.0, lambda: "version two" in _template_in_use(b, fake, "house-rules"))
        _save(a, "house-rules", "three")  # and it hears the others again
        assert _until(1.0, lambda: "version three" in _template_in_use(b, fake, "house-rules"))


def test_an_answer_being_written_during_an_invalidation_does_not_outlive_it(
    make_settings: Callable[..., Settings],
) -> None:
    on = {"caching": {"semantic": {"enabled": True}}}
    one, two = LayerCacheApp(make_settings(**on)), LayerCacheApp(make_settings(**on))
    question = "What is the speed of sound in dry air?"
    with serve(one) as a, serve(two) as b:
        assert two.runtime.semantic is not None and two.runtime.semantic.store is not None
        writer = two.runtime.semantic.store._writer
        insert, written = writer._insert, threading.Event()

        async def held(batch: Any) -> Any:  # the second replica's write is slow: still queued at the delete
            await asyncio.to_thread(written.wait, 30)
            return await insert(batch)

        writer._insert = held  # type: ignore[method-assign]  # the test holds the write on purpose
        assert _ask(b, question) == "miss"  # answered, its entry queued behind the held write
        assert _ask(b, question) == "hit"  # served from memory meanwhile
        assert httpx.delete(f"{a}/v1/cache/entries", params={"all": "true"}, headers=ADMIN).status_code == 200
        time.sleep(0.3)
        written.set()  # the row lands after the delete, stored before it
        assert _until(1.0, lambda: _ask(b, question, lc_cache_ttl=0) == "miss")
        assert _ask(a, question, lc_cache_ttl=0) == "miss"


def _ask(base: str, question: str, **extra: Any) -> str:
    client = openai.OpenAI(base_url=f"{base}/v1", api_key="sk-invalidation-test", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": question}], extra_body=extra or None
    )
    return str(raw.headers.get("x-layercache-cache"))


def test_a_dashboard_logout_through_one_replica_is_honoured_by_the_other(
    make_settings: Callable[..., Settings],
) -> None:
    from tests._dashboard import Browser

    admin = ADMIN["authorization"].split()[1]
    shared = {"dashboard": {"session_secret": "one-secret-for-every-replica-0123456789"}}
    one, two = LayerCacheApp(make_settings(**shared)), LayerCacheApp(make_settings(**shared))
    with serve(one) as a, serve(two) as b:
        tab = Browser(a)
        assert tab.login(admin).status_code == 303
        copied = tab.cookies.get("layercache_dashboard")
        assert copied is not None

        def on_the_other() -> int:
            return httpx.get(f"{b}/dashboard/", cookies={"layercache_dashboard": copied}).status_code

        assert on_the_other() == 200  # one session secret: the cookie is good on every replica
        assert tab.post("/dashboard/logout", data={"csrf_token": tab.token("")}).status_code == 303
        assert _until(1.0, lambda: on_the_other() == 303)  # logged out everywhere, within a second
