"""The guard and the default threshold on the labelled pairs, with the real model: precision first."""

from __future__ import annotations

import pytest

from bench.semantic_quality import load_pairs, score, similarities, verdicts
from layercache_asgi import Settings
from layercache_asgi.semantic import compare_questions
from layercache_asgi.semantic._embedder import Embedder
from layercache_asgi.semantic._guard import Guard
from layercache_asgi.semantic._lexicon import load_lexicon
from layercache_asgi.semantic._thresholds import resolve_thresholds, resolve_weighing
from tests.conftest import MODEL_DIR


async def test_default_settings_reach_the_precision_goal_on_the_labelled_pairs() -> None:
    pairs = load_pairs()
    assert len(pairs) >= 150
    assert sum(p["same"] for p in pairs) >= 60 and sum(not p["same"] for p in pairs) >= 60
    defaults = Settings.model_validate({"caching": {"semantic": {"model_path": str(MODEL_DIR)}}}).caching.semantic
    threshold, word_cut = resolve_thresholds(defaults)
    embedder = Embedder(model_path=str(MODEL_DIR))
    load_lexicon()
    sims = await similarities(embedder, pairs)
    judged = await verdicts(Guard(embedder), pairs, word_cut, resolve_weighing(defaults))
    total, _ = score(pairs, sims, threshold, judged)
    cosine_only, _ = score(pairs, sims, threshold, None)
    assert total.precision >= 0.99
    assert total.recall >= 0.8
    assert cosine_only.precision < 0.9  # the near-misses really are close in embedding space
    await embedder.close()


@pytest.mark.parametrize(
    ("asked", "cached"),
    [
        ("Convert 50 GBP to JPY", "Convert 50 JPY to GBP"),
        ("How do I enable notifications?", "How do I disable notifications?"),
        ("What is the population of Sweden?", "What is the population of Switzerland?"),
        ("Who won the World Cup in 1999?", "Who won the World Cup in 2001?"),
        ("Is it legal to park here?", "Is it illegal to park here?"),
        ("Flights from Boston to Chicago", "Flights from Chicago to Boston"),
        ("How do I turn on wifi?", "How do I turn off wifi?"),
        ("What is 3 minus 5?", "What is 5 minus 3?"),
        ("When was Ada Lovelace born?", "Where was Ada Lovelace born?"),
        ("Who is the mayor of Oslo?", "Who was the mayor of Oslo?"),
        ("How do I reset my password?", "How do I reset my router password?"),
        ("Why doesn't the build pass?", "Why does the build pass?"),
    ],
)
def test_guard_rejects_near_misses(asked: str, cached: str) -> None:
    assert not compare_questions(asked, cached).same
    assert not compare_questions(cached, asked).same


@pytest.mark.parametrize(
    ("asked", "cached"),
    [
        ("How do I reset my password?", "What's the way to reset my password?"),
        ("What is the GDP of Japan?", "What's Japan's GDP?"),
        ("Convert 50 GBP to JPY", "Please convert 50 GBP into JPY"),
        ("How do I create a virtual environment in Python?", "Creating a virtual environment in Python"),
        ("Why doesn't my code compile?", "Why does my code not compile?"),
        ("Who won the World Cup in 1998?", "Who won the 1998 World Cup?"),
        ("How many days are in a leap year?", "Number of days in a leap year?"),
    ],
)
def test_guard_accepts_rephrasings(asked: str, cached: str) -> None:
    assert compare_questions(asked, cached).same
