"""Tuning the semantic cache is visible: every lookup's nearest similarity is a histogram, each
guard refusal is counted by reason, and the dashboard's cache page lists recent refused
candidates, with question text only while ``logging.log_prompts`` is on. Real embedding model,
real SDK, the dashboard over HTTP with an admin session."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import httpx
import pytest

from layercache_asgi import Settings
from layercache_asgi.metrics._semantic import MAX_REASONS, SemanticMetrics, reason_code
from layercache_asgi.semantic import Verdict, compare_questions
from layercache_asgi.testing import FakeProvider, in_process

from .conftest import ADMIN_KEY, async_openai, client_with
from .test_semantic_verifier import sample

pytestmark = [pytest.mark.postgres, pytest.mark.in_process]

STORED = "Is it safe to eat raw eggs?"
NEAR_MISS = "Is it unsafe to eat raw eggs?"  # 0.98 in cosine with MiniLM, opposite in meaning


async def ask(http: httpx.AsyncClient, question: str, key: str = "sk-test-client-key-1") -> str:
    client = async_openai(http, api_key=key)
    raw = await client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": question}]
    )
    return raw.headers.get("x-layercache-cache", "")


def refusals_table(html: str) -> str:
    match = re.search(r'<table data-testid="refusals">.*?</table>', html, re.S)
    assert match is not None, "no refusals table on the cache page"
    return match.group(0)


@pytest.mark.parametrize("log_prompts", [False, True])
async def test_a_near_miss_is_counted_observed_and_listed_on_the_dashboard(
    make_settings: Callable[..., Settings], fake: FakeProvider, log_prompts: bool
) -> None:
    settings = make_settings(caching={"semantic": {"enabled": True}}, logging={"log_prompts": log_prompts})
    async with in_process(fake, settings) as http:
        assert await ask(http, STORED) == "miss"  # an empty bucket: nothing to observe yet
        assert await ask(http, NEAR_MISS) == "miss"
        metrics = (await http.get("/metrics")).text
        tab = client_with(http)  # its own cookies, like a browser tab
        login = (await tab.get("/dashboard/login")).text
        token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        assert (await tab.post("/dashboard/login", data={"key": ADMIN_KEY, "csrf_token": token})).status_code == 303
        page = await tab.get("/dashboard/cache")
    assert len(fake.requests) == 2
    # The guard refused the candidate once; its reason (today "opposites unsaf/saf") counts by its code.
    verdict = compare_questions(NEAR_MISS, STORED)
    code = reason_code(verdict)
    assert not verdict.same
    assert sample(metrics, "layercache_semantic_guard_refusals_total", reason=code) == 1
    assert sample(metrics, "layercache_semantic_nearest_similarity_count", model="gpt-4o-mini") == 1
    nearest = sample(metrics, "layercache_semantic_nearest_similarity_sum", model="gpt-4o-mini")
    assert 0.85 <= nearest < 1.0  # above the threshold: only the guard stood in the way
    below = sample(metrics, "layercache_semantic_nearest_similarity_bucket", model="gpt-4o-mini", le="0.85")
    assert below == 0
    assert page.status_code == 200
    table = refusals_table(page.text)
    assert code in table and f"{nearest:.3f}" in table and "gpt-4o-mini" in table
    assert "sk-test-client-key-1" not in page.text
    full_reason = html.escape(verdict.reason)
    if log_prompts:
        assert NEAR_MISS in table and STORED in table and full_reason in table
    else:
        assert "eggs" not in table and (full_reason == code or full_reason not in table)


def test_refusal_labels_stay_bounded_and_never_quote_the_prompt() -> None:
    assert reason_code(Verdict(False, "opposites enable/disable")) == "opposites"
    assert reason_code(Verdict(False, "content words differ")) == "content_words_differ"
    assert reason_code(Verdict(False, "names differ: Paris")) == "names"
    assert reason_code(Verdict(False, "")) == "unspecified"

    class Coded:  # a verdict with a code of its own (the guard may add one): the code wins
        same, reason, code = False, "synonym unknown: descale/decalcify", "unknown_synonym"

    assert reason_code(Coded()) == "unknown_synonym"
    from prometheus_client import CollectorRegistry

    metrics = SemanticMetrics(CollectorRegistry())
    labels = {metrics.code_label(f"reason_{i}") for i in range(MAX_REASONS + 10)}
    assert len(labels) == MAX_REASONS + 1 and "other" in labels
