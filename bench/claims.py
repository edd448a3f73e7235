"""What a claim across replicas costs on the path of a new prefix: one round trip to PostgreSQL.

Times ``coord.Claims.claim`` (the warm-up gate's and semantic single flight's one statement)
for a new key and for a key another replica holds, next to a bare ``SELECT 1`` on the same
pooled engine, in a fresh database on the local server. A prefix known warm costs nothing
(an in-memory check), so it is not in the table.

    LAYERCACHE_TEST_PG_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test python bench/claims.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from layercache_asgi.coord._claims import Claims
from layercache_asgi.db import _migrate
from tests._pg import fresh_postgres_database

ROUNDS = 500
PG_URL = os.environ.get("LAYERCACHE_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def _timed(work: Callable[[int], Awaitable[object]]) -> list[float]:
    for i in range(20):  # warm the pool and the prepared statements
        await work(-i - 1)
    times = []
    for i in range(ROUNDS):
        began = time.perf_counter()
        await work(i)
        times.append((time.perf_counter() - began) * 1000)
    return times


async def main(url: str) -> None:
    await _migrate.upgrade(url)
    engine = create_async_engine(url)
    mine, other = Claims(engine, "bench-a"), Claims(engine, "bench-b")
    held = [f"held-{i}" for i in range(ROUNDS)]
    await other.claim(held, 600)  # another replica writes these

    async def select_one(_i: int) -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def claim_new(_i: int) -> None:
        await mine.claim([uuid.uuid4().hex], 5)

    async def claim_held(i: int) -> None:
        outcome = await mine.claim([held[i % ROUNDS]], 5)
        mine.done_waiting([held[i % ROUNDS]], outcome.signal)

    rows = [
        ("SELECT 1 (reference)", select_one),
        ("claim a new key", claim_new),
        ("claim a key held elsewhere", claim_held),
    ]
    print(f"{'operation':<30} {'p50 ms':>8} {'p99 ms':>8}   ({ROUNDS} rounds each)")
    for name, work in rows:
        times = sorted(await _timed(work))
        print(f"{name:<30} {statistics.median(times):>8.2f} {times[int(len(times) * 0.99) - 1]:>8.2f}")
    await engine.dispose()


if __name__ == "__main__":
    with fresh_postgres_database(PG_URL) as database:
        asyncio.run(main(database))
