"""The semantic store's write-behind on the real database: new entries are found at once,
written in batches, kept across close, and a row the database refuses costs only that row."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from layercache_asgi import Settings
from layercache_asgi._logging import configure_logging, release_logging
from layercache_asgi.db import Database, SemanticEntry
from layercache_asgi.db._migrate import upgrade
from layercache_asgi.semantic import SemanticStore
from layercache_asgi.semantic._index import Bucket
from layercache_asgi.wire._completion import Completion

pytestmark = pytest.mark.postgres

DIM = 8
TENANT, EXACT = "tenant-a", "exact-key-1"


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


async def reject_inserts(database_url: str, *, containing: str) -> None:
    """Make the database itself refuse rows whose question contains ``containing`` (a trigger)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                await conn.exec_driver_sql(
                    "CREATE TRIGGER lc_test_reject BEFORE INSERT ON semantic_entries "
                    f"WHEN NEW.query_text LIKE '%{containing}%' "
                    "BEGIN SELECT RAISE(ABORT, 'rejected by the test trigger'); END"
                )
            else:
                await conn.exec_driver_sql(
                    "CREATE FUNCTION lc_test_reject() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.query_text LIKE '%{containing}%' THEN RAISE EXCEPTION 'rejected by the test trigger'; "
                    "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
                )
                await conn.exec_driver_sql(
                    "CREATE TRIGGER lc_test_reject BEFORE INSERT ON semantic_entries "
                    "FOR EACH ROW EXECUTE FUNCTION lc_test_reject()"
                )
    finally:
        await engine.dispose()


async def accept_inserts(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                await conn.exec_driver_sql("DROP TRIGGER lc_test_reject")
            else:
                await conn.exec_driver_sql("DROP TRIGGER lc_test_reject ON semantic_entries")
    finally:
        await engine.dispose()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await upgrade(database.engine)
    yield database
    await database.close()


def add(store: SemanticStore, i: int, question: str | None = None) -> int | None:
    text = question or f"question number {i}"
    return store.add(
        tenant=TENANT,
        model="gpt-4o-mini",
        exact=EXACT,
        query=text,
        vector=unit(i),
        completion=Completion(text=f"answer to {text}"),
        ttl=300,
    )


async def stored_questions(db: Database) -> dict[int, str]:
    async with db.session() as session:
        rows = (await session.execute(select(SemanticEntry.id, SemanticEntry.query_text))).all()
    return {entry_id: query for entry_id, query in rows}


async def answer_for(store: SemanticStore, i: int, bucket: Bucket | None = None) -> tuple[int, str] | None:
    """(entry id, answer text) of the best match for question ``i``'s vector (``bucket``: as it is now)."""
    candidates = await store.candidates(bucket or await store.bucket(TENANT, EXACT), unit(i), 0.99)
    if not candidates:
        return None
    answer = await store.fetch(candidates[0])
    return None if answer is None else (answer.entry_id, Completion.from_dict(answer.response).text)


async def test_a_new_entry_is_found_before_it_is_written_and_by_its_real_id_after(db: Database) -> None:
    store = SemanticStore(db, max_entries=1000, dim=DIM)
    bucket = await store.bucket(TENANT, EXACT)  # loaded (empty) before anything is stored
    provisional = [add(store, i) for i in range(20)]
    assert all(entry_id is not None and entry_id < 0 for entry_id in provisional)
    # Nothing has been awaited since: the writer has not run, the answer comes from memory.
    assert await answer_for(store, 7, bucket) == (provisional[7], "answer to question number 7")
    [under_way] = await store.candidates(bucket, unit(8), 0.99)  # a lookup that finds the row before its write
    await store.flush()
    rows = await stored_questions(db)
    assert sorted(rows.values()) == sorted(f"question number {i}" for i in range(20))
    by_question = {query: entry_id for entry_id, query in rows.items()}
    assert await answer_for(store, 7) == (by_question["question number 7"], "answer to question number 7")
    late = await store.fetch(under_way)
    assert late is not None and late.entry_id == by_question["question number 8"]
    bucket = await store.bucket(TENANT, EXACT)
    assert bucket.live == 20 and all(entry_id > 0 for entry_id in bucket.positions)  # no duplicates, no leftovers
    await store.close()


async def test_a_bucket_loaded_while_entries_wait_to_be_written_includes_them(db: Database) -> None:
    store = SemanticStore(db, max_entries=1000, dim=DIM)
    add(store, 1)  # its bucket is not loaded yet
    assert (await answer_for(store, 1) or (0, ""))[1] == "answer to question number 1"
    await store.close()


async def test_closing_writes_everything_queued(db: Database) -> None:
    store = SemanticStore(db, max_entries=1000, dim=DIM)
    for i in range(30):
        add(store, i)
    await store.close()  # no flush first
    assert len(await stored_questions(db)) == 30
    reopened = SemanticStore(db, max_entries=1000, dim=DIM)
    found = await answer_for(reopened, 29)
    assert found is not None and found[0] > 0 and found[1] == "answer to question number 29"
    await reopened.close()


async def test_a_row_the_database_refuses_is_dropped_alone_and_logged(db: Database, database_url: str) -> None:
    store = SemanticStore(db, max_entries=1000, dim=DIM)
    for i in range(3):
        add(store, i)
    await store.flush()
    await reject_inserts(database_url, containing="poison")
    await store.bucket(TENANT, EXACT)
    logs = configure_logging(Settings())  # lines logged outside any app's request reach every app's buffer
    for i in range(3, 8):  # one batch, one bad row in the middle
        add(store, i, "poison pill" if i == 5 else None)
    await store.flush()
    stored = sorted((await stored_questions(db)).values())
    assert stored == sorted(f"question number {i}" for i in (0, 1, 2, 3, 4, 6, 7))
    assert await answer_for(store, 5) is None  # no longer answered from memory either
    assert (await answer_for(store, 6) or (0, ""))[1] == "answer to question number 6"
    [failed] = [line for line in logs.tail(1000) if line["event"] == "semantic_store_failed"]
    assert (failed["rows"], failed["stored"]) == (1, 4)
    assert "request_id" not in failed
    release_logging(logs)
    await store.close()


async def test_while_the_database_refuses_everything_entries_are_dropped_then_stored_again(
    db: Database, database_url: str
) -> None:
    store = SemanticStore(db, max_entries=1000, dim=DIM)
    await reject_inserts(database_url, containing="")
    logs = configure_logging(Settings())
    for i in range(10):
        add(store, i)
    await store.flush()
    [failed] = [line for line in logs.tail(1000) if line["event"] == "semantic_store_failed"]
    assert (failed["rows"], failed["stored"]) == (10, 0)
    assert await answer_for(store, 4) is None
    release_logging(logs)
    await accept_inserts(database_url)
    add(store, 4)
    await store.flush()
    assert list((await stored_questions(db)).values()) == ["question number 4"]
    await store.close()


async def test_size_cap_is_kept_by_the_writer(db: Database) -> None:
    store = SemanticStore(db, max_entries=5, dim=DIM)
    for i in range(12):
        add(store, i)
    await store.flush()
    async with db.session() as session:
        count = (await session.execute(select(func.count(SemanticEntry.id)))).scalar_one()
    assert count == 5
    await store.close()


def test_a_scan_off_the_loop_sees_one_state_of_the_bucket() -> None:
    """A big bucket is scanned in a worker thread while the event loop adds rows to it. Here the
    add lands mid-scan, deterministically: when the product reads the query's vector."""
    bucket = Bucket(dim=4)
    unit = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)
    for entry_id in range(1, 17):  # full: the next add grows (swaps) the arrays
        bucket.add(entry_id, unit, f"question {entry_id}", expires=2e9)

    class AddsMidScan:
        def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
            if bucket.size == 16:
                bucket.add(99, unit, "added meanwhile", expires=2e9)
            return unit

    found, nearest = bucket.scan(AddsMidScan(), 0.5, now=1e9, limit=20)  # type: ignore[arg-type]
    assert [c.entry_id for c in found] == list(range(1, 17))  # the rows there when the scan began
    assert nearest == pytest.approx(1.0)
    assert bucket.size == 17
    assert [c.entry_id for c in bucket.search(unit, 0.5, now=1e9, limit=20)] == [*range(1, 17), 99]
