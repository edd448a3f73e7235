"""The second-stage verifier: a cross-encoder the semantic cache asks about the candidates the
guard passes (or is unsure of). The tests build a tiny ONNX "cross-encoder" of their own, a
word-level tokenizer and a graph whose logit is the sum of one weight per token, so that a
pair containing a chosen word scores low and every other pair high, and serve the app with it
through the real OpenAI SDK, the real embedding model and the real database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import onnx
import pytest
from onnx import TensorProto, helper
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.normalizers import Lowercase
from tokenizers.pre_tokenizers import Whitespace
from tokenizers.processors import TemplateProcessing

from layercache_asgi import Settings
from layercache_asgi.semantic import Verdict
from layercache_asgi.semantic._cross_encoder import OnnxCrossEncoder
from layercache_asgi.semantic._judge import guard_unsure
from layercache_asgi.semantic._verifier import Verifier, asks_verifier
from layercache_asgi.testing import FakeProvider, in_process

from .conftest import async_openai

pytestmark = pytest.mark.postgres

HEADER = "x-layercache-cache"
SENTENCE_WORDS = "how do i can what is the way to reset my password please ' s ?"
WORDS = SENTENCE_WORDS.split()
SPECIALS = ["[UNK]", "[CLS]", "[SEP]"]


def tiny_cross_encoder(folder: Path, *, vetoed: str) -> Path:
    """A model folder (model.onnx + tokenizer.json): logit = 2 + sum of per-token weights, where
    ``vetoed`` weighs -10 and every other token 0, so a pair holding ``vetoed`` scores
    sigmoid(-8) ~ 0.0003 and any other pair sigmoid(2) ~ 0.88."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {token: i for i, token in enumerate([*SPECIALS, *WORDS])}
    tokenizer = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = Lowercase()
    tokenizer.pre_tokenizer = Whitespace()
    tokenizer.post_processor = TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tokenizer.save(str(folder / "tokenizer.json"))

    weights = [0.0] * len(vocab)
    weights[vocab[vetoed]] = -10.0
    graph = helper.make_graph(
        [
            helper.make_node("Gather", ["weights", "input_ids"], ["per_token"]),
            helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
            helper.make_node("Mul", ["per_token", "mask"], ["kept"]),
            helper.make_node("ReduceSum", ["kept", "axes"], ["total"], keepdims=1),
            helper.make_node("Add", ["total", "bias"], ["logits"]),
        ],
        "tiny_cross_encoder",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, "n"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, [1, "n"]),
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1])],
        initializer=[
            helper.make_tensor("weights", TensorProto.FLOAT, [len(weights)], weights),
            helper.make_tensor("axes", TensorProto.INT64, [1], [1]),
            helper.make_tensor("bias", TensorProto.FLOAT, [1], [2.0]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8  # what onnxruntime of any supported age reads
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "model.onnx"))
    return folder


def test_the_tiny_model_scores_pairs_through_the_shipped_cross_encoder(tmp_path: Path) -> None:
    encoder = OnnxCrossEncoder(str(tiny_cross_encoder(tmp_path / "m", vetoed="way")))
    assert isinstance(encoder, Verifier)

    async def scores() -> tuple[float, float]:
        try:
            same = await encoder.verify("how do i reset my password ?", "how can i reset my password ?")
            vetoed = await encoder.verify("what's the way to reset my password ?", "how do i reset my password ?")
            return same, vetoed
        finally:
            await encoder.close()

    same, vetoed = asyncio.run(scores())
    assert same == pytest.approx(0.8808, abs=1e-3) and vetoed == pytest.approx(0.000335, abs=1e-4)


def test_who_is_asked_follows_when() -> None:
    assert [asks_verifier(when, True, False) for when in ("pass", "unsure", "always")] == [True, False, True]
    assert [asks_verifier(when, False, True) for when in ("pass", "unsure", "always")] == [False, True, True]
    assert [asks_verifier(when, False, False) for when in ("pass", "unsure", "always")] == [False, False, False]
    assert guard_unsure(Verdict(False, "unsure")) and not guard_unsure(Verdict(False, "numbers differ"))
    assert not guard_unsure(Verdict(True)) and not guard_unsure(None)


async def ask(http: httpx.AsyncClient, question: str) -> str:
    client = async_openai(http, api_key="sk-test-client-key-1")
    raw = await client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": question}]
    )
    assert (raw.parse().choices[0].message.content or "").startswith("Echo: ")
    return raw.headers.get(HEADER, "")


def sample(metrics: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in metrics.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def verifier_settings(make_settings: Callable[..., Settings], **verifier: Any) -> Settings:
    return make_settings(caching={"semantic": {"enabled": True, "verifier": verifier}})


@pytest.mark.in_process
async def test_the_cache_obeys_the_verifier_on_what_the_guard_passes(
    make_settings: Callable[..., Settings], fake: FakeProvider, tmp_path: Path
) -> None:
    model = tiny_cross_encoder(tmp_path / "m", vetoed="way")
    async with in_process(fake, verifier_settings(make_settings, model_path=str(model), when="pass")) as http:
        assert await ask(http, "How do I reset my password?") == "miss"
        # The guard passes this paraphrase (a hit without a verifier: test_semantic_cache.py);
        # the verifier scores the pair 0.0003, under its threshold: a miss, sent upstream.
        assert await ask(http, "What's the way to reset my password?") == "miss"
        # Scored 0.88 by the verifier: a hit.
        assert await ask(http, "How can I reset my password?") == "hit"
        metrics = (await http.get("/metrics")).text
    assert len(fake.requests) == 2
    assert sample(metrics, "layercache_semantic_verifier_total", result="rejected") >= 1
    assert sample(metrics, "layercache_semantic_verifier_total", result="accepted") == 1


@pytest.mark.parametrize("broken", ["missing", "not_onnx"])
@pytest.mark.in_process
async def test_a_missing_or_broken_model_leaves_the_guard_alone_with_a_log_line_and_a_metric(
    make_settings: Callable[..., Settings],
    fake: FakeProvider,
    tmp_path: Path,
    broken: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    model = tmp_path / "model"
    if broken == "not_onnx":
        tiny_cross_encoder(model, vetoed="way")
        (model / "model.onnx").write_bytes(b"this is not an onnx model")
    async with in_process(fake, verifier_settings(make_settings, model_path=str(model))) as http:
        assert await ask(http, "How do I reset my password?") == "miss"
        assert await ask(http, "What's the way to reset my password?") == "hit"  # the guard's verdict stands
        assert await ask(http, "How can I reset my password?") == "hit"
        metrics = (await http.get("/metrics")).text
    assert len(fake.requests) == 1
    assert sample(metrics, "layercache_semantic_verifier_total", result="unavailable") == 2
    assert sample(metrics, "layercache_faults_total", component="semantic", event="semantic_verifier_unavailable") == 1
    assert capsys.readouterr().err.count("semantic_verifier_unavailable") == 1


def test_unsure_refusals_nobody_settled_are_judged_again() -> None:
    from layercache_asgi import Settings as AppSettings
    from layercache_asgi.semantic._index import Candidate
    from layercache_asgi.semantic._judge import Judge

    class Unsure:  # the guard's verdict when it lacks word vectors (it names the words it needs)
        same, reason, needs = False, "unsure", ("descale", "decalcify")

    verdicts: list[Any] = [Unsure(), Verdict(True)]
    judge = Judge("How do I descale my kettle?", AppSettings().caching.semantic, lambda q, s: verdicts.pop(0), None)
    candidate = Candidate(1, 0.9, "How do I decalcify a kettle?")
    assert asyncio.run(judge.accept(candidate)) is False
    assert judge.trace.needs() == ["descale", "decalcify"]
    assert asyncio.run(judge.accept(candidate)) is True  # the guard learned the words: judged again
    assert judge.trace.needs() == [] and not verdicts


@pytest.mark.in_process
async def test_a_refusal_near_the_weighing_cut_is_unsure_and_the_verifier_settles_it(
    make_settings: Callable[..., Settings], fake: FakeProvider, tmp_path: Path
) -> None:
    # "speed up" / "make faster": the sentence model weighs the swap about 1.2 times its cut, so
    # the guard refuses it as unsure rather than outright. Without a verifier that is a miss
    # (test_semantic_weigh.py keeps the cuts honest); the verifier asked about unsure refusals
    # scores the pair 0.88 here, a hit. A hard stop is never put to it.
    assert guard_unsure(Verdict(False, "content words differ", unsure=True))
    model = tiny_cross_encoder(tmp_path / "m", vetoed="way")

    async def ask_as(http: httpx.AsyncClient, key: str, question: str) -> str:
        # a tenant per app: both apps share the database
        client = async_openai(http, api_key=key)
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": question}]
        )
        return raw.headers.get(HEADER, "")

    async with in_process(fake, make_settings(caching={"semantic": {"enabled": True}})) as http:
        assert await ask_as(http, "sk-test-client-key-1", "How do I speed up my phone?") == "miss"
        assert await ask_as(http, "sk-test-client-key-1", "How do I make my phone faster?") == "miss"
    verifier = verifier_settings(make_settings, model_path=str(model), when="unsure")
    async with in_process(fake, verifier) as http:
        assert await ask_as(http, "sk-test-client-key-2", "How do I speed up my phone?") == "miss"
        assert await ask_as(http, "sk-test-client-key-2", "How do I make my phone faster?") == "hit"
        # a hard stop: never put to the verifier
        assert await ask_as(http, "sk-test-client-key-2", "How do I speed up my 2 phones?") == "miss"
        metrics = (await http.get("/metrics")).text
    assert sample(metrics, "layercache_semantic_verifier_total", result="accepted") == 1
