"""SQLite is one process: a second process serving the same file refuses to start, naming PostgreSQL.

Replicas coordinate through PostgreSQL; SQLite has nothing to carry their changes, so the
first process holds the file (a lock on ``<file>.lock``) and any other stops at start-up.
These tests use their own SQLite file whatever ``LAYERCACHE_TEST_DB`` says.
"""
# On sockets: a second uvicorn process on one SQLite file.

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import serve
from tests._cluster import REPO, free_port


@pytest.fixture
def sqlite_config(tmp_path: Path) -> Path:
    config = tmp_path / "layercache.yaml"
    database = {"url": f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"}
    config.write_text(yaml.safe_dump({"database": database, "logging": {"format": "console"}, "caching": {}}))
    return config


def _uvicorn(config: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "LAYERCACHE_CONFIG": str(config),
        "PYTHONPATH": str(REPO),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    command = [sys.executable, "-m", "uvicorn", "layercache_asgi:app", "--port", str(port), *extra]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.fixture
def first(sqlite_config: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    process = _uvicorn(sqlite_config, port)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the first process did not start"
            time.sleep(0.2)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def test_a_second_process_on_the_same_file_refuses_to_start(
    sqlite_config: Path, first: tuple[subprocess.Popen[str], str]
) -> None:
    second = _uvicorn(sqlite_config, free_port())
    output, _ = second.communicate(timeout=60)
    assert second.returncode != 0
    assert "already serves from the SQLite database" in output and "PostgreSQL" in output
    assert f"pid {first[0].pid}" in output
    assert httpx.get(f"{first[1]}/health").status_code == 200  # the first one is untouched


def test_the_file_is_free_again_once_its_process_is_killed(
    sqlite_config: Path, first: tuple[subprocess.Popen[str], str]
) -> None:
    first[0].send_signal(signal.SIGKILL)  # no shutdown: the operating system drops the lock
    first[0].wait(10)
    port = free_port()
    again = _uvicorn(sqlite_config, port)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert again.poll() is None, again.communicate()[0]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        again.kill()
        again.wait(10)


def test_uvicorn_workers_on_sqlite_stop_with_a_message_naming_postgresql(sqlite_config: Path) -> None:
    workers = _uvicorn(sqlite_config, free_port(), "--workers", "2")
    try:
        output, _ = workers.communicate(timeout=90)
    finally:
        if workers.poll() is None:
            workers.kill()
    # uvicorn stops the whole server when a worker fails to start (its own exit status is 0).
    assert "failed to start" in output
    assert "SQLite keeps layercache-asgi to one process" in output and "PostgreSQL" in output


def test_apps_in_one_process_share_the_file(tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'one-process.db'}"
    one = LayerCacheApp(make_settings(database={"url": url}))
    two = LayerCacheApp(make_settings(database={"url": url}))
    with serve(one) as a, serve(two) as b:
        assert httpx.get(f"{a}/health").status_code == 200
        assert httpx.get(f"{b}/health").status_code == 200
    with serve(LayerCacheApp(make_settings(database={"url": url}))) as c:  # both closed: taken again
        assert httpx.get(f"{c}/health").status_code == 200


def test_an_app_alone_on_its_file_reads_nothing_back_per_miss_and_sees_a_second_apps_answers(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    """Alone on the file, the semantic index in memory is complete: a miss costs no query. A second
    app of the same process may write the file too: lookups then read its new rows again."""
    import sqlite3

    from sqlalchemy import event

    path = tmp_path / "semantic.db"
    settings = make_settings(database={"url": f"sqlite+aiosqlite:///{path}"}, caching={"semantic": {"enabled": True}})
    body = {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "You are terse."}]}
    headers = {"authorization": "Bearer sk-test-client-key-1"}

    def ask(url: str, question: str) -> str:
        user = {"role": "user", "content": question}
        r = httpx.post(
            f"{url}/v1/chat/completions",
            json={**body, "messages": [*body["messages"], user]},
            headers=headers,
            timeout=60,
        )
        assert r.status_code == 200, r.text
        return str(r.headers.get("x-layercache-cache", ""))

    one = LayerCacheApp(settings)
    with serve(one) as a:
        assert ask(a, "What is the capital of France?") == "miss"  # loads the bucket
        reads: list[str] = []
        event.listen(
            one.runtime.db.engine.sync_engine,  # type: ignore[union-attr]
            "before_cursor_execute",
            lambda _c, _cur, statement, *_: (
                reads.append(statement) if statement.lstrip().startswith("SELECT") else None
            ),
        )
        assert ask(a, "How many legs does a spider have?") == "miss"
        assert ask(a, "Which planet is closest to the sun?") == "miss"
        assert not [s for s in reads if "semantic_entries" in s], reads

        with serve(LayerCacheApp(settings)) as b:
            assert ask(b, "Who wrote the novel Moby Dick?") == "miss"  # stored by the second app
            deadline = time.monotonic() + 30
            while True:  # written behind: wait for its row
                with sqlite3.connect(path) as conn:
                    count = conn.execute("SELECT count(*) FROM semantic_entries WHERE query_text LIKE '%Moby%'")
                    if count.fetchone()[0]:
                        break
                assert time.monotonic() < deadline, "the second app's answer was never written"
                time.sleep(0.05)
            assert ask(a, "Who wrote the novel Moby Dick?") == "hit"  # the first app read it from the file
