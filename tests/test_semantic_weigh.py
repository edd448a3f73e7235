"""Content words the guard leaves unpaired are weighed by the sentence model; the hard stops stay.

Pairs written for these tests (none from the labelled sets), judged with the real model and
the package's lexicon. Each accepted pair is refused without the weighing, so the tests
fail without the mechanism they describe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import openai
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.semantic import compare_questions
from layercache_asgi.semantic._guard import Guard
from layercache_asgi.semantic._question import parse
from layercache_asgi.semantic._thresholds import resolve_weighing, thresholds_for
from layercache_asgi.semantic._weigh import Weighing
from layercache_asgi.testing import serve
from tests.conftest import MODEL_DIR

# The guard with the measured cuts and the word table loaded: `guard` and `lexicon` in tests/conftest.py.
pytestmark = pytest.mark.usefixtures("lexicon")


def test_the_measured_model_has_weighing_cuts_and_unmeasured_models_have_none() -> None:
    settings = Settings.model_validate({"caching": {"semantic": {"model_path": str(MODEL_DIR)}}})
    assert isinstance(resolve_weighing(settings.caching.semantic), Weighing)
    assert thresholds_for("BAAI/bge-small-en-v1.5").weighing is None  # not measured: unpaired words refuse


@pytest.mark.parametrize(
    ("kind", "asked", "cached"),
    [
        ("synonym", "How do I end my gym membership?", "How do I cancel my gym membership?"),
        ("synonym", "What is the tallest waterfall in Europe?", "What is the highest waterfall in Europe?"),
        ("synonym", "How do I reduce my electricity bill?", "How do I lower my electricity bill?"),
        (
            "framing verb",
            "How early should I arrive at the station for a Eurostar train?",
            "How early should I get to the station for a Eurostar train?",
        ),
    ],
)
async def test_the_sentence_model_settles_what_the_word_rules_leave(
    guard: Guard, kind: str, asked: str, cached: str
) -> None:
    without = Guard(guard.embedder, word_cut=guard.word_cut)  # the guard as it was: unpaired words refuse
    assert not (await without.judge(asked, cached)).same, kind
    assert (await guard.judge(asked, cached)).same, kind
    assert (await guard.judge(cached, asked)).same, kind


async def test_weighing_asks_for_the_texts_it_compares_then_decides(guard: Guard) -> None:
    asked, cached = "How do I end my gym membership?", "How do I cancel my gym membership?"
    first = guard.check(asked, cached)
    assert not first.same and first.reason == "unsure"
    assert " ".join(parse(asked).words) in first.needs  # the question as the guard words it: "how do i end my..."
    assert (await guard.judge(asked, cached)).same
    assert guard.check(asked, cached).same  # texts and words are remembered
    assert guard.check(asked, cached) is guard.check(asked, cached)  # and the decided verdict: no second comparison


@pytest.mark.parametrize(
    ("stop", "asked", "cached"),
    [
        (
            "qualifier (adverb)",
            "How do I manually remove a virus from my laptop?",
            "How do I remove a virus from my laptop?",
        ),
        (
            "qualifier (adjective)",
            "How do I get a partial refund for a cancelled train ticket?",
            "How do I get a refund for a cancelled train ticket?",
        ),
        ("qualifier (end)", "How do I paint a door quickly?", "How do I paint a door?"),
        ("scope", "How do I delete one photo from my album?", "How do I delete all photos from my album?"),
        ("same kind", "How many grams of flour in a teaspoon?", "How many grams of flour in a tablespoon?"),
        ("different aspect", "How do I pronounce quinoa?", "How do I spell quinoa?"),
        (
            "different aspect",
            "How much does it cost to renew a passport?",
            "How long does it take to renew a passport?",
        ),
        ("different action", "How do I freeze my gym membership?", "How do I cancel my gym membership?"),
        ("similar entity", "What are the side effects of ibuprofen?", "What are the side effects of paracetamol?"),
        ("direction", "Convert 300 GBP to CHF", "Convert 300 CHF to GBP"),
        ("antonym", "How do I lock my screen?", "How do I unlock my screen?"),
        ("negation", "Which fruits can dogs eat?", "Which fruits can dogs not eat?"),
        ("number", "What is 20 percent of 90?", "What is 30 percent of 90?"),
    ],
)
async def test_hard_stops_and_near_misses_refuse_with_the_weighing_on(
    guard: Guard, stop: str, asked: str, cached: str
) -> None:
    assert not (await guard.judge(asked, cached)).same, stop
    assert not (await guard.judge(cached, asked)).same, stop


@pytest.mark.parametrize(
    ("kind", "asked", "cached"),
    [
        (
            "phrasal verb",
            "How do I switch off notifications on my iPhone?",
            "How do I turn off notifications on my iPhone?",
        ),
        ("phrasal verb", "How do I get out of nano?", "How do I exit nano?"),
        ("compound", "Can I change my last name online?", "Can I change my surname online?"),
        (
            "courtesy",
            "Would you mind telling me what the boiling point of water is, please?",
            "What is the boiling point of water?",
        ),
        ("courtesy", "Excuse me, do you know how I change a flat tyre?", "How do I change a flat tyre?"),
        ("courtesy", "Good morning! May I ask what time the museum opens?", "What time does the museum open?"),
        ("filler", "ok so how do i unfreeze my bank card lol", "How do I unfreeze my bank card?"),
        ("attribute", "How heavy is a grand piano?", "What is the weight of a grand piano?"),
        ("attribute", "How deep is Lake Baikal?", "What is the depth of Lake Baikal?"),
        ("capitals", "Is regular paint OK to use on a radiator?", "Can I use regular paint on a radiator?"),
        (
            "passive, far participle",
            "When was the first Tour de France held?",
            "When did they hold the first Tour de France?",
        ),
    ],
)
def test_the_word_rules_alone_accept(kind: str, asked: str, cached: str) -> None:
    assert compare_questions(asked, cached).same, kind
    assert compare_questions(cached, asked).same, kind


def test_a_collocation_keeps_its_opposite_and_an_attribute_its_own_noun() -> None:
    assert not compare_questions("How do I switch off dark mode?", "How do I turn on dark mode?").same
    assert not compare_questions("How heavy is a grand piano?", "What is the width of a grand piano?").same


@pytest.fixture
def cached_proxy(make_settings: Callable[..., Settings]) -> Iterator[str]:
    with serve(LayerCacheApp(make_settings(caching={"semantic": {"enabled": True}}))) as url:
        yield url


def test_a_weighed_paraphrase_is_a_hit_through_the_proxy(cached_proxy: str) -> None:
    client = openai.OpenAI(base_url=f"{cached_proxy}/v1", api_key="sk-test-client-key-1", max_retries=0)

    def ask(question: str) -> str:
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": question}]
        )
        return raw.headers.get("x-layercache-cache", "")

    assert ask("How do I lower my electricity bill?") == "miss"
    assert ask("How do I reduce my electricity bill?") == "hit"  # embeds the texts it weighs, looks again
    assert ask("How do I lower my electricity bill quickly?") == "miss"  # a qualifier narrows it
    assert ask("How do I lower my gas bill?") == "miss"


def test_decided_verdicts_are_kept_by_digest_not_by_the_questions_text() -> None:
    guard = Guard(None)
    long_question = "How do I reset my password? " + "Please explain every step in detail. " * 2000
    first = guard.check(long_question, "How do I reset my password?")
    assert guard.check(long_question, "How do I reset my password?") == first
    assert len(guard._verdicts) == 1
    (key,) = guard._verdicts._data
    assert all(len(part) <= 16 for part in key[:2])  # two 16-byte digests, not the texts


async def test_word_and_text_vectors_are_kept_by_digest() -> None:
    class Rows:
        async def embed(self, texts: list[str]) -> list[list[float]]:
            return [[1.0, float(len(t))] for t in texts]

    guard = Guard(Rows())
    text = "a question the weighing compares " * 500
    await guard.learn(["word", text])
    assert all(len(key) == 16 for key in guard._vectors._data)
    await guard.learn(["word", text])  # known: nothing embedded again
    assert len(guard._vectors) == 2
