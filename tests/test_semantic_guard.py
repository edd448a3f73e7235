"""The guard judges meaning: each kind of rewording it accepts, each hard stop it keeps.

Examples written for these tests (none from the labelled sets). The lexicon is the one in
the package; the word vectors come from the real embedding model.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from layercache_asgi import Settings
from layercache_asgi.semantic import compare_questions
from layercache_asgi.semantic._embedder import Embedder
from layercache_asgi.semantic._guard import Guard
from layercache_asgi.semantic._lexicon import load_lexicon
from layercache_asgi.semantic._question import MAX_COMPARED_CHARS
from layercache_asgi.semantic._thresholds import MODEL_THRESHOLDS, resolve_thresholds, thresholds_for
from layercache_asgi.testing import FakeProvider, in_process
from tests.conftest import MODEL_DIR, async_openai


@pytest.fixture(scope="module", autouse=True)
def lexicon_loaded() -> None:
    load_lexicon()  # the guard reads it in the background otherwise; these tests want it now


@pytest.fixture
async def guard() -> AsyncIterator[Guard]:
    embedder = Embedder(model_path=str(MODEL_DIR))
    yield Guard(embedder, word_cut=thresholds_for("", str(MODEL_DIR)).word_cut)
    await embedder.close()


def test_the_lexicon_is_read_from_the_package_data() -> None:
    lexicon = load_lexicon()
    assert lexicon.synonyms("purchase", "buy")
    assert lexicon.opposite("buy", "sell") and lexicon.opposite("sell", "buy")
    assert lexicon.derived("install", "installation")
    assert "mouse" in lexicon.bases("mice") and "run" in lexicon.bases("running")
    assert lexicon.known("kettle") and not lexicon.known("kettel")
    assert len(lexicon.words) > 50_000


@pytest.mark.parametrize(
    ("kind", "asked", "cached"),
    [
        ("synonym", "How do I purchase a used automobile?", "How do I buy a used car?"),
        ("synonym", "What is a large dog breed for families?", "What is a big dog breed for families?"),
        ("inflection", "Steps for creating backups of photos", "How do I create a backup of my photo?"),
        ("voice", "Who painted the Sistine Chapel ceiling?", "The Sistine Chapel ceiling was painted by whom?"),
        (
            "nominalisation",
            "How long does the installation of Postgres take?",
            "How long does it take to install Postgres?",
        ),
        ("abbreviation", "How do I change my pw on the router?", "How do I change my password on the router?"),
        ("abbreviation", "Is the config file in the repo?", "Is the configuration file in the repository?"),
        ("acronym", "Best pizza in NYC", "Where is the best pizza in New York City?"),
        ("typo", "How do I instal the prerequisites?", "How do I install the prerequisites?"),
        ("typo", "Recipe for chocolate brownies", "Recipe for chocolate browines"),
        ("question form", "What year did the Titanic sink?", "When did the Titanic sink?"),
        ("politeness", "Could you please tell me how to boil an egg?", "How to boil an egg"),
        ("word order", "the GDP of Japan", "Japan's GDP"),
        ("adverb", "Can I safely freeze cooked rice?", "Is it safe to freeze cooked rice?"),
        ("units", "Bake bread at 220°C?", "Bake bread at 220 degrees celsius?"),
        ("currency", "Convert $75 to euros", "convert 75 USD to EUR"),
        ("passive agent", "How are grades calculated at university?", "How do universities calculate grades?"),
        ("courtesy", "Sorry to bother you, but how do I reset my router?", "How do I reset my router?"),
        ("shorthand", "how 2 grow tomatoes b4 summer", "How to grow tomatoes before summer?"),
        ("marker object kept", "Flights to Rome from Oslo", "From Oslo, flights to Rome"),
    ],
)
def test_the_lexicon_alone_accepts_rewordings(kind: str, asked: str, cached: str) -> None:
    assert compare_questions(asked, cached).same, kind
    assert compare_questions(cached, asked).same, kind


async def test_word_vectors_pair_words_no_table_links(guard: Guard) -> None:
    asked, cached = "Can I pay with my smartphone at the till?", "Can I pay with my cellphone at the till?"
    without_vectors = guard.check(asked, cached)
    # A cellphone is read as a mobile phone (_regional.py): "smartphone" / "mobile telephone" is for the vectors.
    assert not without_vectors.same and set(without_vectors.needs) >= {"smartphone", "mobile", "telephone"}
    assert (await guard.judge(asked, cached)).same
    assert guard.check(asked, cached).same  # the vectors are remembered


@pytest.mark.parametrize(
    ("stop", "asked", "cached"),
    [
        ("antonym", "How do I buy shares without a broker?", "How do I sell shares without a broker?"),
        ("antonym", "Is it legal to drive barefoot?", "Is it illegal to drive barefoot?"),
        ("antonym", "How do I enable dark mode?", "How do I disable dark mode?"),
        ("antonym", "What should I eat before running?", "What should I eat after running?"),
        ("negation", "Why does my laptop charge?", "Why doesn't my laptop charge?"),
        ("negation", "Can I travel with a pet?", "Can I travel without a pet?"),
        ("negation", "Has he ever won a grand slam?", "Has he never won a grand slam?"),
        ("number", "How many calories are in 2 eggs?", "How many calories are in 3 eggs?"),
        ("unit", "Convert 10 km to miles", "Convert 10 m to miles"),
        ("entity", "What is the population of Lyon?", "What is the population of Paris?"),
        ("entity", "Who founded Microsoft?", "Who founded Apple?"),
        ("direction", "Convert 100 USD to EUR", "Convert 100 EUR to USD"),
        ("direction", "Train times from Leeds to York", "Train times from York to Leeds"),
        ("comparison", "Is a horse faster than a camel?", "Is a camel faster than a horse?"),
        ("time", "What is on TV tonight?", "What is on TV tomorrow?"),
        ("tense", "Who is the coach of the team?", "Who was the coach of the team?"),
        ("question word", "Where did Mozart die?", "When did Mozart die?"),
        ("target language", "Translate 'good morning' into French", "Translate 'good morning' into German"),
        ("added word", "How do I reset my password?", "How do I reset my email password?"),
        ("currency after the amount", "How much is 40 US dollars in yen?", "How much is 40 euros in yen?"),
        ("unit", "Bake at 180 degrees Celsius for how long?", "Bake at 180 degrees Fahrenheit for how long?"),
        ("roles", "Can a landlord evict a tenant in winter?", "Can a tenant evict a landlord in winter?"),
        ("possession", "Can my sister borrow my car?", "Can I borrow my sister's car?"),
        (
            "pronoun direction",
            "How do I send money from my brother to me?",
            "How do I send money from me to my brother?",
        ),
        ("same kind", "how many people live in sweden", "how many people live in norway"),
        ("time", "Show me last week's receipts", "Show me next week's receipts"),
    ],
)
async def test_hard_stops_refuse_even_with_word_vectors(guard: Guard, stop: str, asked: str, cached: str) -> None:
    assert not compare_questions(asked, cached).same, stop
    assert not (await guard.judge(asked, cached)).same, stop
    assert not (await guard.judge(cached, asked)).same, stop


def test_a_typo_is_not_a_different_real_word() -> None:
    assert not compare_questions("What is the capital of austria?", "What is the capital of australia?").same
    assert not compare_questions("How does caching affect latency?", "How does caching effect latency?").same


def test_the_threshold_table_is_keyed_by_model() -> None:
    minilm = MODEL_THRESHOLDS["sentence-transformers/all-MiniLM-L6-v2"]
    assert minilm.measured
    assert thresholds_for("BAAI/bge-small-en-v1.5", str(MODEL_DIR)) is minilm  # the folder decides
    assert not thresholds_for("BAAI/bge-small-en-v1.5").measured
    settings = Settings.model_validate({"caching": {"semantic": {"model_path": str(MODEL_DIR)}}})
    assert resolve_thresholds(settings.caching.semantic) == (minilm.similarity, minilm.word_cut)
    overridden = Settings.model_validate(
        {"caching": {"semantic": {"model_path": str(MODEL_DIR), "similarity_threshold": 0.9, "word_similarity": 0.7}}}
    )
    assert resolve_thresholds(overridden.caching.semantic) == (0.9, 0.7)


@pytest.mark.in_process
async def test_swapped_currencies_are_not_served_from_cache_through_the_real_model(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    async with in_process(fake, make_settings(caching={"semantic": {"enabled": True}})) as http:
        client = async_openai(http)

        async def ask(question: str) -> str:
            raw = await client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": question}]
            )
            return raw.headers.get("x-layercache-cache", "")

        assert await ask("Convert 250 USD to EUR") == "miss"
        assert await ask("Convert 250 EUR to USD") == "miss"
        assert await ask("Please convert 250 USD into EUR") == "hit"  # the same question still hits
        # Two words no table links: the proxy embeds them, then looks again.
        assert await ask("Can I pay with my smartphone at the till?") == "miss"
        assert await ask("Can I pay with my cellphone at the till?") == "hit"


def test_importing_the_package_reads_no_lexicon() -> None:
    code = (
        "import layercache_asgi, layercache_asgi.semantic as s\n"
        "from layercache_asgi.semantic import _lexicon\n"
        "assert _lexicon._loaded is None and _lexicon._loading is None\n"
        "s.compare_questions('big dogs', 'large dogs')\n"  # a lookup starts the background read, never waits for it
        "assert _lexicon._loading is not None\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)


def test_questions_past_what_the_model_reads_are_compared_only_as_exact_repeats() -> None:
    # Word-by-word comparison grows with the product of the lengths (on the event loop), and the
    # embedding saw only their heads: two long texts alike at the start are refused, not compared.
    head = "Summarise this report on the quarterly sales of our stores. " * 60
    assert len(head) > MAX_COMPARED_CHARS
    refused = compare_questions(head + "Focus on Europe.", head + "Focus on Asia.")
    assert not refused.same and refused.reason == "too long to compare"
    assert compare_questions(head + "Focus on Europe.", head + "Focus on Europe.").same
    # Up to the bound, the usual rules decide.
    short = "Summarise this report on the quarterly sales of our stores. "
    assert compare_questions(short + "Focus on Europe.", short + "Focus on Asia.").reason == "names differ"


def test_a_question_is_parsed_once_whatever_it_is_compared_with() -> None:
    # Every lookup compares the new question with up to 8 stored ones: each is parsed once, not per pair.
    from layercache_asgi.semantic._question import parse

    text = "How do I descale a kettle without vinegar?"
    assert parse(text) is parse(text)
