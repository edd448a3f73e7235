"""Three replicas behind HAProxy on one PostgreSQL database behave as one proxy.

Each replica is a ``uvicorn layercache_asgi:app`` process; they share only the database,
through which they coordinate (``layercache_asgi/coord``). Runs on PostgreSQL only
(``LAYERCACHE_TEST_DB=postgres``); HAProxy comes from ``scripts/setup-test-env.sh``.
"""
# On sockets: a cluster of uvicorn processes behind HAProxy.

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

from layercache_asgi.db import _migrate
from layercache_asgi.testing import PrefixCacheSimulator, serve
from tests._cluster import Cluster, cluster
from tests.conftest import ADMIN, ADMIN_KEY, MODEL_DIR, PG_URL, TEST_DB

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        TEST_DB != "postgres",
        reason="replicas coordinate through PostgreSQL (LISTEN/NOTIFY): run with LAYERCACHE_TEST_DB=postgres",
    ),
]

# "Within 1 s" of the change, measured from its response.
WITHIN = 1.0
TOOLS: list[Any] = [{"name": "lookup", "description": "Look something up.", "input_schema": {"type": "object"}}]


def _config(upstream: str, database_url: str, **caching: Any) -> dict[str, Any]:
    semantic = {"enabled": bool(caching.pop("semantic", False)), "model_path": str(MODEL_DIR)}
    return {
        "proxy": {"admin_api_key": ADMIN_KEY},
        "providers": {"openai": {"api_base": f"{upstream}/v1"}, "anthropic": {"api_base": upstream}},
        "database": {"url": database_url, "auto_upgrade": True},
        "caching": {"semantic": semantic, **caching},
        "logging": {"format": "console"},
    }


def _migrated(url: str) -> str:
    asyncio.run(_migrate.upgrade(url))  # once, before the replicas start
    return url


@pytest.fixture(scope="module")
def shared_fake() -> PrefixCacheSimulator:
    return PrefixCacheSimulator(delay=0.05)


@pytest.fixture(scope="module")
def semantic_cluster(shared_fake: PrefixCacheSimulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One cluster for the semantic cache, template and limiter checks (each uses its own names)."""
    from tests._pg import fresh_postgres_database

    with fresh_postgres_database(PG_URL) as url, serve(shared_fake) as upstream:
        config = _config(upstream, _migrated(url), semantic=True)
        with cluster(config, tmp_path_factory.mktemp("replicas")) as running:
            yield running


def _openai(base: str, key: str = "sk-replica-client-1") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0, timeout=30)


def _ask(base: str, question: str, **extra: Any) -> str:
    """What the replica at ``base`` answered from: ``hit`` or ``miss`` (x-layercache-cache)."""
    raw = _openai(base).chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": question}], extra_body=extra or None
    )
    return str(raw.headers.get("x-layercache-cache"))


def _until(deadline: float, check: Any) -> bool:
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def test_an_answer_stored_through_one_replica_is_a_hit_on_the_others_within_a_second(
    semantic_cluster: Cluster,
) -> None:
    one, *others = semantic_cluster.replicas
    for base in others:  # each holds this bucket in memory already: the new row must reach it
        assert _ask(base, f"What is the capital of Peru? ({base[-5:]})") == "miss"
    question = "What is the tallest mountain in Europe?"
    assert _ask(one, question) == "miss"
    # Answers are written behind: listing through that replica returns once its answer is stored.
    listed = httpx.get(f"{one}/v1/cache/entries", params={"q": "tallest mountain"}, headers=ADMIN).json()
    assert listed["total"] == 1
    deadline = time.monotonic() + WITHIN
    for base in others:  # lc_cache_ttl 0: a miss here stores nothing of its own that could hit next time
        assert _until(deadline, lambda b=base: _ask(b, question, lc_cache_ttl=0) == "hit"), base


async def _commit_late(url: str, like: str, question: str, held: threading.Event, release: threading.Event) -> None:
    """Insert an answer to ``question`` in the bucket of the entry asking ``like``, and commit it only once
    ``release`` is set: a replica whose insert took an id early and committed after others did."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from layercache_asgi.semantic._embedder import Embedder

    embedder = Embedder(model_path=str(MODEL_DIR))
    await embedder.load()
    vector = (await embedder.embed([question]))[0]
    await embedder.close()
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO semantic_entries (tenant, model, exact_key, query_text, embedding, response, "
                    "input_tokens, output_tokens, cost_usd, hit_count, created_at, last_hit_at, expires_at) "
                    "SELECT tenant, model, exact_key, :question, :embedding, response, input_tokens, output_tokens, "
                    "cost_usd, 0, now(), now(), now() + interval '1 hour' FROM semantic_entries "
                    "WHERE query_text = :like LIMIT 1"
                ),
                {"question": question, "embedding": vector.tobytes(), "like": like},
            )
            held.set()
            await asyncio.to_thread(release.wait, 30)
    finally:
        await engine.dispose()


def test_a_row_committed_out_of_id_order_reaches_the_other_replicas_within_a_second(semantic_cluster: Cluster) -> None:
    one, two, three = semantic_cluster.replicas
    seed, late, later = "Who wrote Hamlet?", "Who painted the Mona Lisa?", "Who composed the Four Seasons?"
    assert _ask(one, seed) == "miss"
    assert _until(time.monotonic() + 5, lambda: all(_ask(b, seed) == "hit" for b in (two, three)))
    held, release = threading.Event(), threading.Event()
    writer = threading.Thread(
        target=asyncio.run, args=(_commit_late(semantic_cluster.database_url, seed, late, held, release),)
    )
    writer.start()
    try:
        assert held.wait(60)  # its id is taken, its row not visible yet
        assert _ask(one, later) == "miss"  # a higher id, committed first
        assert _until(time.monotonic() + 5, lambda: all(_ask(b, later) == "hit" for b in (two, three)))
    finally:
        release.set()
        writer.join(60)
    deadline = time.monotonic() + WITHIN  # below every replica's watermark now: only the notification tells them
    for base in (two, three):
        assert _until(deadline, lambda b=base: _ask(b, late, lc_cache_ttl=0) == "hit"), base


def test_an_invalidation_through_one_replica_is_honoured_by_all_within_a_second(semantic_cluster: Cluster) -> None:
    question = "How many moons does Mars have?"
    first, second, third = semantic_cluster.replicas
    assert _ask(first, question) == "miss"
    assert _until(time.monotonic() + 5, lambda: all(_ask(b, question) == "hit" for b in (second, third)))
    deleted = httpx.delete(f"{second}/v1/cache/entries", params={"all": "true"}, headers=ADMIN)
    assert deleted.status_code == 200 and deleted.json()["deleted"] >= 1
    deadline = time.monotonic() + WITHIN
    for base in semantic_cluster.replicas:  # lc_cache_ttl 0: a miss stores nothing that could hit later
        assert _until(deadline, lambda b=base: _ask(b, question, lc_cache_ttl=0) == "miss"), base


def test_a_template_saved_through_one_replica_is_used_by_all_within_a_second(
    semantic_cluster: Cluster, shared_fake: PrefixCacheSimulator
) -> None:
    name = f"rules-{uuid.uuid4().hex[:6]}"

    def save(base: str, version: str) -> None:
        doc = {"name": name, "system": f"Rules, version {version}: answer briefly."}
        response = httpx.post(f"{base}/v1/prompts/templates", json=doc, headers=ADMIN)
        assert response.status_code == 201, response.text

    def sent_with(base: str) -> str:
        _ask(base, "Which rules apply?", lc_template=name, lc_skip_semantic_cache=True)
        return json.dumps(shared_fake.requests[-1].body)

    save(semantic_cluster.replicas[0], "one")
    for base in semantic_cluster.replicas:  # every replica has the template cached now
        assert "version one" in sent_with(base)
    save(semantic_cluster.replicas[1], "two")
    deadline = time.monotonic() + WITHIN
    for base in semantic_cluster.replicas:
        assert _until(deadline, lambda b=base: "version two" in sent_with(b)), base


def test_the_same_question_on_three_replicas_at_once_goes_upstream_once(
    semantic_cluster: Cluster, shared_fake: PrefixCacheSimulator
) -> None:
    question = "What is the boiling point of water at sea level, in Fahrenheit?"
    answered: list[str] = []
    shared_fake.delay = 1.0  # long enough for all three to be asking at once
    try:
        threads = [
            threading.Thread(target=lambda b=base: answered.append(_ask(b, question)))
            for base in semantic_cluster.replicas
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        shared_fake.delay = 0.05
    upstream = [r for r in shared_fake.requests if question in json.dumps(r.body)]
    assert len(upstream) == 1
    assert sorted(answered) == ["hit", "hit", "miss"]


def test_failed_authentications_count_across_replicas(semantic_cluster: Cluster) -> None:
    # Last in this module: it locks 127.0.0.1 out of the admin routes for a minute.
    wrong = {"authorization": "Bearer not-the-admin-key"}
    statuses = [
        httpx.get(f"{semantic_cluster.balancer}/v1/cache/entries", headers=wrong).status_code for _ in range(10)
    ]
    assert statuses == [401] * 10  # spread over the three replicas by the balancer
    deadline = time.monotonic() + WITHIN
    for base in semantic_cluster.replicas:  # each counted all ten: even the right key waits now
        assert _until(deadline, lambda b=base: httpx.get(f"{b}/v1/cache/entries", headers=ADMIN).status_code == 429)


# -- the warm-up gate across replicas ---------------------------------------------------------


def _system(tag: str) -> str:
    return f"[{tag}] " + " ".join(
        f"Rule {i}: check the facts, cite the source and keep answers short." for i in range(160)
    )


def _fan_out(base: str, system: str, n: int) -> list[Any]:
    client = anthropic.Anthropic(base_url=base, api_key="sk-ant-replica-key", max_retries=0, timeout=60)
    results: list[Any] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        raw: Any
        try:
            raw = client.messages.with_raw_response.create(
                model="claude-sonnet-4-5",
                max_tokens=20,
                system=system,
                tools=TOOLS,
                messages=[{"role": "user", "content": f"sub-task {i}"}],
            )
        except anthropic.APIConnectionError as exc:
            raw = exc
        with lock:
            results.append(raw)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return results


def _writes_and_reads(results: list[Any]) -> tuple[int, int]:
    usages = [r.parse().usage for r in results]
    return sum(1 for u in usages if u.cache_creation_input_tokens), sum(1 for u in usages if u.cache_read_input_tokens)


def _requests_served(base: str) -> float:
    text = httpx.get(f"{base}/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("layercache_requests_total{")
    )


@contextlib.contextmanager
def _running(fake: PrefixCacheSimulator, database_url: str, tmp: Path, **caching: Any) -> Iterator[Cluster]:
    with serve(fake) as upstream, cluster(_config(upstream, _migrated(database_url), **caching), tmp) as running:
        yield running


def test_a_fan_out_over_three_replicas_pays_one_write(database_url: str, tmp_path: Path) -> None:
    fake = PrefixCacheSimulator(delay=1.0)
    # Every request marked: this is about who writes. Whether a new family is worth marking at all
    # (each replica may defer its first request of one) is test_marker_plan.py's.
    with _running(fake, database_url, tmp_path, warmup_wait_seconds=5, mark_only_when_reused=False) as running:
        for base in running.replicas:  # first requests pay one-off costs (imports, tokenizer): not in the race
            _fan_out(base, _system(f"warm-up {base}"), 1)
        results = _fan_out(running.balancer, _system("fan-out"), 9)
        served = [_requests_served(base) for base in running.replicas]
    assert len(results) == 9
    assert served == [4.0, 4.0, 4.0]  # round robin: every replica had its own share of the nine
    assert _writes_and_reads(results) == (1, 8)


def test_a_replica_killed_holding_a_claim_delays_the_others_at_most_the_wait_bound(
    database_url: str, tmp_path: Path
) -> None:
    bound = 4.0
    fake = PrefixCacheSimulator(delay=30.0)  # the first replica's upstream call hangs: it holds the claim
    system = _system("killed")
    with _running(fake, database_url, tmp_path, warmup_wait_seconds=bound, mark_only_when_reused=False) as running:
        stuck = threading.Thread(target=_fan_out, args=(running.replicas[0], system, 1), daemon=True)
        stuck.start()
        assert _until(time.monotonic() + 30, lambda: len(fake.requests) == 1)  # it is upstream, claim held
        running.kill(0)
        fake.delay = 0.1
        results = _fan_out(running.replicas[1], system, 2) + _fan_out(running.replicas[2], system, 2)
    assert all(not isinstance(r, Exception) and r.status_code == 200 for r in results), results
    waits = [int(r.headers.get("x-layercache-warmup-wait-ms", "0")) for r in results]
    # The dead replica's claim held them (a wait for a live leader here is the fake's 0.1 s), for the bound at most.
    assert 1000 < max(waits) <= bound * 1000 + 250, waits
