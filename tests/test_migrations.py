"""Alembic migrations: up and down on both backends, models agree, start-up checks the schema.

Database tests run on SQLite by default and on PostgreSQL with ``LAYERCACHE_TEST_DB=postgres``.
"""
# On sockets: the CLI's migrations run in a subprocess.

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import openai
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.db import _migrate, metadata
from layercache_asgi.db._migrate import SchemaError
from layercache_asgi.testing import FakeProvider, serve
from tests.conftest import TEST_DB

OUR_TABLES = set(metadata.tables)


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def _execute(url: str, sql: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def test_the_scripts_are_found_and_have_one_head() -> None:
    assert (_migrate.migrations_dir() / "env.py").is_file()
    assert _migrate.head() == "0004"
    assert all(_migrate.is_known(r) for r in ("0001", "0002", "0003", "0004")) and not _migrate.is_known("ffff")


@pytest.mark.postgres
async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    assert await _migrate.current(database_url) is None
    assert not await _migrate.is_up_to_date(database_url)

    await _migrate.upgrade(database_url)
    assert await _migrate.current(database_url) == _migrate.head()
    assert await _migrate.is_up_to_date(database_url)
    assert await _tables(database_url) == OUR_TABLES | {"alembic_version"}

    await _migrate.downgrade(database_url, "base")
    assert await _migrate.current(database_url) is None
    assert await _tables(database_url) <= {"alembic_version"}

    await _migrate.upgrade(database_url)
    await _migrate.upgrade(database_url)  # a second upgrade is a no-op
    assert await _migrate.current(database_url) == _migrate.head()
    assert await _tables(database_url) == OUR_TABLES | {"alembic_version"}


async def _coordination_objects(url: str) -> tuple[set[str], str | None]:
    """(our notify triggers, coord_claims' persistence: 'u' unlogged, 'p' logged, None absent)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            triggers = {row[0] for row in await conn.execute(text("SELECT tgname FROM pg_trigger"))}
            persistence = (
                await conn.execute(text("SELECT relpersistence::text FROM pg_class WHERE relname = 'coord_claims'"))
            ).scalar()
    finally:
        await engine.dispose()
    return {t for t in triggers if t.startswith("layercache_")}, persistence


@pytest.mark.postgres
@pytest.mark.skipif(TEST_DB != "postgres", reason="NOTIFY triggers and unlogged tables are PostgreSQL's")
async def test_replica_coordination_objects_come_and_go_with_0004(database_url: str) -> None:
    await _migrate.upgrade(database_url)
    triggers, persistence = await _coordination_objects(database_url)
    assert triggers == {"layercache_entries_insert", "layercache_entries_delete", "layercache_templates_changed"}
    assert persistence == "u"  # claims are short-lived: no WAL
    await _migrate.downgrade(database_url, "0002")
    assert await _coordination_objects(database_url) == (set(), None)
    await _migrate.upgrade(database_url)
    assert (await _coordination_objects(database_url))[0] == triggers


@pytest.mark.postgres
async def test_models_and_migrations_agree(database_url: str) -> None:
    # Before any migration every table is missing: check() is not vacuous.
    missing = await _migrate.check(database_url)
    assert {f"add_table {name}" for name in OUR_TABLES} <= set(missing)
    await _migrate.upgrade(database_url)
    assert await _migrate.check(database_url) == []


@pytest.mark.postgres
async def test_check_ignores_a_host_apps_own_tables(database_url: str) -> None:
    # Mounted in a host app, we may share its database; its tables are not ours to report.
    await _migrate.upgrade(database_url)
    await _execute(database_url, "CREATE TABLE host_orders (id INTEGER PRIMARY KEY)")
    assert await _migrate.check(database_url) == []
    await _migrate.downgrade(database_url, "base")
    assert "host_orders" in await _tables(database_url)


@pytest.mark.postgres
def test_workers_upgrading_at_once_migrate_once(database_url: str) -> None:
    # Separate processes, so only the database lock (not the in-process one) keeps them apart.
    script = "import asyncio, sys; from layercache_asgi.db import _migrate; asyncio.run(_migrate.upgrade(sys.argv[1]))"
    workers = [
        subprocess.Popen([sys.executable, "-c", script, database_url], stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    assert asyncio.run(_migrate.current(database_url)) == _migrate.head()
    assert asyncio.run(_migrate.check(database_url)) == []


@pytest.mark.postgres
@pytest.mark.skipif(TEST_DB != "postgres", reason="the advisory lock is PostgreSQL's")
async def test_upgrade_waits_for_the_advisory_lock(database_url: str) -> None:
    holder = create_async_engine(database_url)
    try:
        async with holder.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _migrate._PG_LOCK_KEY})
            upgrading = asyncio.create_task(_migrate.upgrade(database_url))
            # Wait until the upgrade is queued on the lock (bounded), then check it did nothing yet.
            for _ in range(500):
                waiting = await conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    )
                )
                if waiting:
                    break
                await asyncio.sleep(0.01)
            assert waiting == 1
            assert not upgrading.done()
            await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _migrate._PG_LOCK_KEY})
            await conn.commit()
        await upgrading
    finally:
        await holder.dispose()
    assert await _migrate.is_up_to_date(database_url)


# -- start-up ---------------------------------------------------------------------------------


def _chat(base: str) -> str:
    client = openai.OpenAI(base_url=f"{base}/v1", api_key="sk-migration-test", max_retries=0)
    reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hello"}])
    return reply.choices[0].message.content or ""


def test_sqlite_upgrades_itself_on_start_up(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    app = LayerCacheApp(make_settings(database={"url": url, "auto_upgrade": None}))  # the default
    with serve(app) as base:
        assert _chat(base)
        assert app.runtime.db is not None
    assert asyncio.run(_migrate.current(url)) == _migrate.head()


@pytest.mark.postgres
def test_a_schema_that_is_behind_stops_start_up(
    make_settings: Callable[..., Settings], database_url: str, fake: FakeProvider
) -> None:
    # Postgres never upgrades by default; SQLite does, so the test turns that off there.
    settings = make_settings(database={"auto_upgrade": None if TEST_DB == "postgres" else False})
    app = LayerCacheApp(settings)
    with serve(app, lifespan="off") as base:
        response = httpx.post(
            f"{base}/v1/chat/completions", json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
        )
        assert response.status_code == 503
        assert "layercache-asgi db upgrade" in response.json()["error"]["message"]
        assert fake.requests == []  # nothing was sent upstream by a half-started proxy

        # Once someone runs the command, the next request starts the proxy; no restart needed.
        asyncio.run(_migrate.upgrade(database_url))
        assert _chat(base)
        assert app.runtime.db is not None
    asyncio.run(_migrate.downgrade(database_url, "base"))

    async def enter_lifespan() -> None:
        async with LayerCacheApp(settings).lifespan():
            pass

    with pytest.raises(SchemaError, match="layercache-asgi db upgrade"):
        asyncio.run(enter_lifespan())
    assert asyncio.run(_migrate.current(database_url)) is None  # start-up never migrated it


@pytest.mark.postgres
def test_a_schema_from_a_newer_version_stops_start_up(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    asyncio.run(_migrate.upgrade(database_url))
    asyncio.run(_execute(database_url, "UPDATE alembic_version SET version_num = 'f00dfeed'"))

    async def enter_lifespan() -> None:
        async with LayerCacheApp(make_settings()).lifespan():  # even with auto_upgrade on
            pass

    with pytest.raises(SchemaError, match="does not know"):
        asyncio.run(enter_lifespan())


def test_an_unreachable_database_leaves_an_uncached_proxy(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    # Port 1 refuses connections at once; the semantic cache is on but has nowhere to store.
    settings = make_settings(
        database={"url": "postgresql+asyncpg://nobody@127.0.0.1:1/layercache"},
        caching={"semantic": {"enabled": True}},
    )
    app = LayerCacheApp(settings)
    with serve(app) as base:
        assert _chat(base)
        assert _chat(base)
        assert app.runtime.db is None and app.runtime.semantic is None
    assert len(fake.requests) == 2  # the repeat went upstream: nothing was cached


@pytest.mark.postgres
async def test_a_failed_statement_error_quotes_no_values(database_url: str) -> None:
    # Log lines quote database errors (cut short); the values of a failed statement (prompts,
    # answers) must not be in them on either backend.
    from sqlalchemy.exc import DBAPIError

    from layercache_asgi.db import Database

    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE lc_probe (s VARCHAR(100) PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO lc_probe (s) VALUES (:v)"), {"v": "secret prompt text"})
        with pytest.raises(DBAPIError) as caught:  # the same row again: refused by the key
            async with db.engine.begin() as conn:
                await conn.execute(text("INSERT INTO lc_probe (s) VALUES (:v)"), {"v": "secret prompt text"})
        assert "lc_probe" in str(caught.value)  # the statement is named
        assert "secret prompt text" not in str(caught.value)
    finally:
        await db.close()
