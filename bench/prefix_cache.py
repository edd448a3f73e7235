"""Prefix-cache benchmark: a noisy agent app, direct to a provider vs through layercache-asgi.

Replays a multi-turn agent workload through the official SDKs against
:class:`layercache_asgi.testing.PrefixCacheSimulator` (which bills prompt tokens like
the providers' prefix caches): a long system prompt, several tools, sessions growing
turn by turn (question → tool call → tool result → answer), interleaved. The noisy app
lists tools in varying order with JSON-schema keywords in varying order (the fields in
``properties`` keep the app's order), adds trailing whitespace / CRLF / stray blank lines
to its system prompt, and asks for "think step by step" on some requests (in its system
prompt when direct; as ``lc_enhancements`` through layercache-asgi). Its history is re-sent
with the same bytes, as real clients do: the proxy never normalises message content.

Gemini (``FakeGemini`` billing through the simulator: explicit CachedContent plus
implicit caching, at its best case): direct is the noisy app calling ``generateContent``
itself (implicit caching only); hand-tuned creates one CachedContent for the noise-free
system prompt and tools and sends only contents (hand-tuned-implicit sends the same
noise-free prompt whole and relies on implicit caching); through layercache-asgi the
OpenAI SDK asks for ``gemini/gemini-2.5-flash`` and the proxy (via LiteLLM) does the rest.

Prints, per variant, the cached fraction of prompt tokens and a cost index (uncached
1.0, 5-minute write 1.25, read 0.1; all-uncached = 1.0). Creating a Gemini
CachedContent counts 1.0 per token (Google bills it at the input price) on top of the
prompts; its storage (per token-hour for the TTL) is printed on its own line and left
out of the index, because what it costs per request depends on how much traffic the
TTL serves, which this workload does not model. The goal: through layercache-asgi, the
noisy app reaches ≥ 98% of the hand-tuned client's cached fraction.

The OpenAI Responses API (a Codex-like agent, ``client.responses.create``): the noisy app
sends noisy ``instructions`` and shuffled tools, and its history as input items (function
calls and their outputs); hand-tuned sends them noise-free in a fixed order.

Also: a warm-up fan-out (8 concurrent requests sharing a new prefix, responses starting
after 300 ms) with the warm-up gate on and off.

One-shot (Anthropic): 20 requests, each with its own ~3,000-token system prompt (a document
to summarise; nothing repeats), direct vs through layercache-asgi with markers only where
reads pay (the default) and with every prefix marked (``mark_only_when_reused: false``).
Mixed: the agent sessions above with a one-shot request after each of their requests. Both
print the cost index vs direct and vs the hand-tuned client (which marks its agent
requests and sends one-shots plain). Automatic caching: the agent app sending Anthropic's
top-level ``cache_control``, direct and through layercache-asgi with and without the
proxy's own markers (the ``InjectCacheMarkers`` stage dropped).

Run: ``python bench/prefix_cache.py [--sessions 6] [--turns 6]``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import random
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import openai

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.stages import DEFAULT_STAGES, InjectCacheMarkers
from layercache_asgi.testing import FakeGemini, PrefixCacheSimulator, serve

MODEL_ANTHROPIC = "claude-sonnet-4-5"
MODEL_OPENAI = "gpt-4o"
MODEL_GEMINI = "gemini-2.5-flash"
GEMINI_TTL = 3600  # the proxy's default gemini_cache_ttl_seconds; the hand-tuned client asks for the same
# Storage in input-token equivalents per token-hour: $1.00 per M token-hours vs $0.30 per M input (2.5 Flash).
GEMINI_STORAGE_PER_TOKEN_HOUR = 1.00 / 0.30
COT = "Think step by step."
CC: dict[str, Any] = {"type": "ephemeral"}

SYSTEM = "\n".join(
    [
        "You are Atlas, the operations assistant of a logistics company.",
        "",
        *[
            f"Rule {i}: when a customer asks about shipment {i}, check the tracking system, confirm the address, "
            f"quote the service level agreement section {i % 7}, and never promise delivery dates you cannot verify."
            for i in range(1, 41)
        ],
        "",
        "Answer concisely. Use the tools when facts are needed.",
    ]
)


def _schema(fields: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {f: {"type": "string", "description": f"The {f.replace('_', ' ')}."} for f in fields},
        "required": fields[:1],
        "additionalProperties": False,
    }


TOOLS: list[tuple[str, str, dict[str, Any]]] = [
    ("track_shipment", "Look up the tracking history of a shipment.", _schema(["shipment_id", "carrier"])),
    ("find_customer", "Find a customer record by email or phone.", _schema(["email", "phone", "name"])),
    ("quote_rate", "Quote a shipping rate between two postcodes.", _schema(["origin", "destination", "weight_kg"])),
    ("open_ticket", "Open a support ticket for a problem.", _schema(["subject", "body", "priority"])),
    ("list_depots", "List the depots in a region.", _schema(["region", "country"])),
    ("reschedule", "Reschedule a delivery window.", _schema(["shipment_id", "window_start", "window_end"])),
]


# -- the app's noise --------------------------------------------------------------------------


def _shuffled(value: Any, rnd: random.Random, keep_order: bool = False) -> Any:
    # A real app re-renders key order where it means nothing; the field names in ``properties``
    # come from the app's own type definitions in one fixed order (the order the model writes them).
    if isinstance(value, dict):
        keys = list(value)
        if not keep_order:
            rnd.shuffle(keys)
        return {k: _shuffled(value[k], rnd, keep_order=k == "properties" and not keep_order) for k in keys}
    if isinstance(value, list):
        return [_shuffled(v, rnd) for v in value]
    return value


def noisy_system(rnd: random.Random, cot: bool) -> str:
    lines = SYSTEM.split("\n") + ([COT] if cot else [])
    lines = [line + rnd.choice(["", "", " ", "  ", "\t"]) for line in lines]
    text = rnd.choice(["\n", "\r\n"]).join(lines)
    return rnd.choice(["", "\n", "\r\n\r\n"]) + text + rnd.choice(["", "\n", "\n\n", " \r\n"])


def anthropic_tools(rnd: random.Random | None) -> list[dict[str, Any]]:
    tools = [{"name": n, "description": d, "input_schema": s} for n, d, s in TOOLS]
    if rnd is None:
        return tools
    rnd.shuffle(tools)
    return [_shuffled(t, rnd) for t in tools]


def openai_tools(rnd: random.Random | None) -> list[dict[str, Any]]:
    tools = [{"type": "function", "function": {"name": n, "description": d, "parameters": s}} for n, d, s in TOOLS]
    if rnd is None:
        return tools
    rnd.shuffle(tools)
    return [_shuffled(t, rnd) for t in tools]


def gemini_declarations(rnd: random.Random | None) -> list[dict[str, Any]]:
    """Function declarations; Gemini's schema subset has no ``additionalProperties``."""
    declarations = [
        {"name": n, "description": d, "parameters": {k: v for k, v in s.items() if k != "additionalProperties"}}
        for n, d, s in TOOLS
    ]
    if rnd is None:
        return declarations
    rnd.shuffle(declarations)
    return [_shuffled(d, rnd) for d in declarations]


# -- billing ----------------------------------------------------------------------------------


@dataclass
class Totals:
    uncached: int = 0
    write: int = 0
    read: int = 0
    requests: int = 0
    writers: int = 0  # requests that paid for a cache write
    readers: int = 0  # requests that read from the cache
    caches_created: int = 0  # Gemini: CachedContents created
    created: int = 0  # Gemini: tokens written by creating them, billed outside any prompt
    storage_token_hours: float = 0.0  # Gemini: CachedContent storage, for the TTL asked for

    def add(self, uncached: int, write: int, read: int) -> None:
        self.uncached, self.write, self.read = self.uncached + uncached, self.write + write, self.read + read
        self.requests += 1
        self.writers += write > 0
        self.readers += read > 0

    @property
    def prompt(self) -> int:
        return self.uncached + self.write + self.read

    @property
    def cached_fraction(self) -> float:
        return self.read / self.prompt if self.prompt else 0.0

    @property
    def cost_index(self) -> float:
        billed = self.uncached + 1.25 * self.write + self.created + 0.1 * self.read
        return billed / self.prompt if self.prompt else 0.0


# -- the workload -----------------------------------------------------------------------------

Variant = str  # "direct" | "direct+system-marker" | "hand-tuned" | "hand-tuned-implicit" | "layercache"


def _schedule(sessions: int, turns: int) -> Iterator[tuple[int, int, bool]]:
    """(turn, session, asking) in replay order: each turn, every session asks, then every session
    sends its tool results, so sessions interleave as a busy app's do."""
    for turn in range(turns):
        for asking in (True, False):
            for session in range(sessions):
                yield turn, session, asking


def _question(session: int, turn: int) -> str:
    return f"Customer {session} asks (turn {turn}): where is shipment {1000 * session + turn} and can it arrive sooner?"


def _anthropic_request(
    variant: Variant, history: list[dict[str, Any]], newest: dict[str, Any], rnd: random.Random
) -> dict[str, Any]:
    cot = rnd.random() < 0.5
    history = copy.deepcopy(history)
    newest = copy.deepcopy(newest)
    if variant == "hand-tuned":
        tools = anthropic_tools(None)
        tools[-1]["cache_control"] = CC
        system: Any = [{"type": "text", "text": SYSTEM, "cache_control": CC}]
        if history:
            last = history[-1]
            if isinstance(last["content"], str):
                last["content"] = [{"type": "text", "text": last["content"]}]
            last["content"][-1]["cache_control"] = CC
        if cot:
            content = (
                newest["content"]
                if isinstance(newest["content"], list)
                else [{"type": "text", "text": newest["content"]}]
            )
            newest["content"] = [*content, {"type": "text", "text": COT}]
        return {"system": system, "tools": tools, "messages": [*history, newest]}
    request: dict[str, Any] = {
        "system": noisy_system(rnd, cot and variant != "layercache"),
        "tools": anthropic_tools(rnd),
        "messages": [*history, newest],
    }
    if variant == "direct+system-marker":
        request["system"] = [{"type": "text", "text": request["system"], "cache_control": CC}]
    if variant == "layercache" and cot:
        request["extra_body"] = {"lc_enhancements": ["chain_of_thought"]}
    return request


def _openai_request(
    variant: Variant, history: list[dict[str, Any]], newest: list[dict[str, Any]], rnd: random.Random
) -> dict[str, Any]:
    cot = rnd.random() < 0.5
    newest = copy.deepcopy(newest)
    if variant == "hand-tuned":
        if cot:
            newest.append({"role": "user", "content": COT})
        return {"tools": openai_tools(None), "messages": [{"role": "system", "content": SYSTEM}, *history, *newest]}
    system = noisy_system(rnd, cot and variant != "layercache")
    request: dict[str, Any] = {
        "tools": openai_tools(rnd),
        "messages": [{"role": "system", "content": system}, *history, *newest],
    }
    if variant == "layercache" and cot:
        request["extra_body"] = {"lc_enhancements": ["chain_of_thought"]}
    return request


def responses_tools(rnd: random.Random | None) -> list[dict[str, Any]]:
    tools = [{"type": "function", "name": n, "description": d, "parameters": s} for n, d, s in TOOLS]
    if rnd is None:
        return tools
    rnd.shuffle(tools)
    return [_shuffled(t, rnd) for t in tools]


def _responses_request(
    variant: Variant, history: list[dict[str, Any]], newest: list[dict[str, Any]], rnd: random.Random
) -> dict[str, Any]:
    cot = rnd.random() < 0.5
    newest = copy.deepcopy(newest)
    if variant == "hand-tuned":
        if cot:
            newest.append({"role": "user", "content": COT})
        return {"instructions": SYSTEM, "tools": responses_tools(None), "input": [*history, *newest]}
    request: dict[str, Any] = {
        "instructions": noisy_system(rnd, cot and variant != "layercache"),
        "tools": responses_tools(rnd),
        "input": [*history, *newest],
    }
    if variant == "layercache" and cot:
        request["extra_body"] = {"lc_enhancements": ["chain_of_thought"]}
    return request


def run_responses(base_url: str, variant: Variant, sessions: int, turns: int, seed: int) -> Totals:
    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="sk-bench", max_retries=0)
    rnd = random.Random(seed)
    histories: list[list[dict[str, Any]]] = [[] for _ in range(sessions)]
    totals = Totals()
    for turn, s, asking in _schedule(sessions, turns):
        history = histories[s]
        if asking:
            newest: list[dict[str, Any]] = [{"role": "user", "content": _question(s, turn)}]
        else:
            calls = [item for item in history if item.get("type") == "function_call"][-1:]
            newest = [
                {"type": "function_call_output", "call_id": c["call_id"], "output": f"Shipment in transit, depot {s}."}
                for c in calls
            ]
        response = client.responses.create(model=MODEL_OPENAI, **_responses_request(variant, history, newest, rnd))
        usage = response.usage
        assert usage is not None
        cached = usage.input_tokens_details.cached_tokens or 0
        totals.add(usage.input_tokens - cached, 0, cached)
        output = [item.model_dump(exclude_none=True) for item in response.output]
        history += [*newest, *[{k: v for k, v in item.items() if k not in ("id", "status")} for item in output]]
    return totals


def run_anthropic(base_url: str, variant: Variant, sessions: int, turns: int, seed: int) -> Totals:
    client = anthropic.Anthropic(base_url=base_url, api_key="sk-ant-bench", max_retries=0)
    rnd = random.Random(seed)
    histories: list[list[dict[str, Any]]] = [[] for _ in range(sessions)]
    totals = Totals()
    for turn, s, asking in _schedule(sessions, turns):
        history = histories[s]
        if asking:
            newest: dict[str, Any] = {"role": "user", "content": _question(s, turn)}
        else:
            calls = [b for b in history[-1]["content"] if b.get("type") == "tool_use"]
            results = [
                {"type": "tool_result", "tool_use_id": c["id"], "content": f"Shipment in transit, depot {s}."}
                for c in calls
            ]
            newest = {"role": "user", "content": results}
        request = _anthropic_request(variant, history, newest, rnd)
        response = client.messages.create(model=MODEL_ANTHROPIC, max_tokens=200, **request)
        usage = response.usage
        totals.add(usage.input_tokens, usage.cache_creation_input_tokens or 0, usage.cache_read_input_tokens or 0)
        content = [b.model_dump(exclude_none=True) for b in response.content]
        history += [newest, {"role": "assistant", "content": content}]
    return totals


def run_openai(
    base_url: str, variant: Variant, sessions: int, turns: int, seed: int, model: str = MODEL_OPENAI
) -> Totals:
    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="sk-bench", max_retries=0)
    rnd = random.Random(seed)
    histories: list[list[dict[str, Any]]] = [[] for _ in range(sessions)]
    totals = Totals()
    for turn, s, asking in _schedule(sessions, turns):
        history = histories[s]
        if asking:
            newest = [{"role": "user", "content": _question(s, turn)}]
        else:
            calls = history[-1].get("tool_calls") or []
            newest = [
                {"role": "tool", "tool_call_id": c["id"], "content": f"Shipment in transit, depot {s}."} for c in calls
            ]
        request = _openai_request(variant, history, newest, rnd)
        response = client.chat.completions.create(model=model, **request)
        usage = response.usage
        assert usage is not None
        cached = usage.prompt_tokens_details.cached_tokens if usage.prompt_tokens_details else 0
        totals.add(usage.prompt_tokens - (cached or 0), 0, cached or 0)
        message = response.choices[0].message.model_dump(exclude_none=True)
        history += [*newest, message]
    return totals


def _gemini_request(
    variant: Variant, history: list[dict[str, Any]], newest: dict[str, Any], rnd: random.Random, cache: str | None
) -> dict[str, Any]:
    cot = rnd.random() < 0.5
    if variant.startswith("hand-tuned"):
        sent = copy.deepcopy(newest)
        if cot:
            sent["parts"].append({"text": COT})
        if cache:
            return {"cachedContent": cache, "contents": [*history, sent]}
        return {
            "system_instruction": {"parts": [{"text": SYSTEM}]},
            "tools": [{"function_declarations": gemini_declarations(None)}],
            "contents": [*history, sent],
        }
    return {
        "system_instruction": {"parts": [{"text": noisy_system(rnd, cot)}]},
        "tools": [{"function_declarations": gemini_declarations(rnd)}],
        "contents": [*history, newest],
    }


def run_gemini_native(base_url: str, variant: Variant, sessions: int, turns: int, seed: int) -> Totals:
    """A client of Gemini's REST API (``cachedContents``, ``generateContent``) over httpx."""
    http = httpx.Client(base_url=base_url, headers={"x-goog-api-key": "AIza-bench"}, timeout=60)
    cache = None
    if variant == "hand-tuned":
        created = http.post(
            "/cachedContents",
            json={
                "model": f"models/{MODEL_GEMINI}",
                "systemInstruction": {"parts": [{"text": SYSTEM}]},
                "tools": [{"functionDeclarations": gemini_declarations(None)}],
                "ttl": f"{GEMINI_TTL}s",
            },
        )
        cache = created.raise_for_status().json()["name"]
    rnd = random.Random(seed)
    histories: list[list[dict[str, Any]]] = [[] for _ in range(sessions)]
    totals = Totals()
    for turn, s, asking in _schedule(sessions, turns):
        history = histories[s]
        if asking:
            newest: dict[str, Any] = {"role": "user", "parts": [{"text": _question(s, turn)}]}
        else:
            calls = [p["functionCall"] for p in history[-1]["parts"] if "functionCall" in p]
            result = {"result": f"Shipment in transit, depot {s}."}
            newest = {
                "role": "user",
                "parts": [{"functionResponse": {"name": c["name"], "response": result}} for c in calls],
            }
        request = _gemini_request(variant, history, newest, rnd, cache)
        doc = http.post(f"/models/{MODEL_GEMINI}:generateContent", json=request).raise_for_status().json()
        usage = doc["usageMetadata"]
        cached = usage.get("cachedContentTokenCount", 0)
        totals.add(usage["promptTokenCount"] - cached, 0, cached)
        history += [newest, doc["candidates"][0]["content"]]
    http.close()
    return totals


def run_gemini(base_url: str, variant: Variant, sessions: int, turns: int, seed: int) -> Totals:
    if variant == "layercache":  # the app speaks OpenAI's format; the proxy reaches Gemini through LiteLLM
        return run_openai(base_url, variant, sessions, turns, seed, model=f"gemini/{MODEL_GEMINI}")
    return run_gemini_native(base_url, variant, sessions, turns, seed)


# -- plumbing ---------------------------------------------------------------------------------


def proxy_settings(upstream: str, folder: str, **caching: Any) -> Settings:
    return Settings.model_validate(
        {
            "providers": {
                "openai": {"api_base": f"{upstream}/v1"},
                "anthropic": {"api_base": upstream},
                "gemini": {"api_base": upstream},
            },
            "database": {"url": f"sqlite+aiosqlite:///{folder}/bench.db"},
            "caching": {"semantic": {"enabled": False}, **caching},
            "logging": {"level": "WARNING", "format": "console"},
            "metrics": {"snapshot_interval_seconds": 3600},
        }
    )


@contextlib.contextmanager
def target(variant: Variant, provider: Any, **caching: Any) -> Iterator[str]:
    """The base URL a client of ``variant`` talks to: the fake provider, or the proxy in front of it."""
    with serve(provider) as upstream:
        if variant != "layercache":
            yield upstream
            return
        with (
            tempfile.TemporaryDirectory() as folder,
            serve(LayerCacheApp(proxy_settings(upstream, folder, **caching))) as url,
        ):
            yield url


PROVIDERS = ("anthropic", "openai", "gemini", "responses")


def prefix_cache_table(
    sessions: int, turns: int, seed: int = 7, providers: tuple[str, ...] = PROVIDERS
) -> dict[tuple[str, str], Totals]:
    results: dict[tuple[str, str], Totals] = {}
    runs: list[tuple[str, Callable[..., Totals], list[Variant]]] = [
        ("anthropic", run_anthropic, ["direct", "direct+system-marker", "hand-tuned", "layercache"]),
        ("openai", run_openai, ["direct", "hand-tuned", "layercache"]),
        ("gemini", run_gemini, ["direct", "hand-tuned-implicit", "hand-tuned", "layercache"]),
        ("responses", run_responses, ["direct", "hand-tuned", "layercache"]),
    ]
    for provider, run, variants in runs:
        if provider not in providers:
            continue
        for variant in variants:
            sim = PrefixCacheSimulator()
            upstream = FakeGemini(billing=sim, call_tools=True) if provider == "gemini" else sim
            with target(variant, upstream) as url:
                totals = run(url, variant, sessions, turns, seed)
            creations = [u.cache_write for kind, u in sim.usages if kind == "gemini-cache"]
            totals.caches_created, totals.created = len(creations), sum(creations)
            totals.storage_token_hours = sim.gemini_storage_token_hours
            results[(provider, variant)] = totals
    return results


def _fan_out_once(url: str, fan_out: int, warmup: bool) -> Totals:
    client = anthropic.Anthropic(base_url=url, api_key="sk-ant-bench", max_retries=0, timeout=60)
    totals = Totals()
    lock = threading.Lock()

    def one(i: int) -> None:
        response = client.messages.create(
            model=MODEL_ANTHROPIC,
            max_tokens=50,
            system=SYSTEM,
            tools=anthropic_tools(None),  # type: ignore[arg-type]
            messages=[{"role": "user", "content": f"Sub-task {i}: check depot {i}."}],
            extra_body={"lc_warmup": warmup},
        )
        u = response.usage
        with lock:
            totals.add(u.input_tokens, u.cache_creation_input_tokens or 0, u.cache_read_input_tokens or 0)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(fan_out)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return totals


def warmup_fanout(fan_out: int = 8, start_delay: float = 0.3) -> dict[str, Totals]:
    """``fan_out`` concurrent requests sharing a new prefix, with the warm-up gate off and on."""
    results: dict[str, Totals] = {}
    for label, warmup in (("gate off", False), ("gate on", True)):
        with target("layercache", PrefixCacheSimulator(delay=start_delay)) as url:
            results[label] = _fan_out_once(url, fan_out, warmup)
    return results


# -- one-shot, mixed and automatic caching (Anthropic) -----------------------------------------


def one_shot_document(index: int) -> str:
    """About 3,000 tokens that no other request shares: a document to summarise."""
    lines = [f"Report {index}: quarterly review of depot {index} (confidential, do not forward)."]
    lines += [
        f"Section {index}.{j}: depot {index} handled {index * 97 + j * 13} parcels in week {j}; "
        f"{(index + j) % 9} were late because of route {j * 7 + index}, and claims rose by {(j * index) % 11} percent."
        for j in range(1, 90)
    ]
    return "\n".join(lines)


def _one_shot(client: anthropic.Anthropic, index: int, totals: Totals) -> None:
    response = client.messages.create(
        model=MODEL_ANTHROPIC,
        max_tokens=200,
        system=one_shot_document(index),
        messages=[{"role": "user", "content": "Summarise the document in three sentences."}],
    )
    u = response.usage
    totals.add(u.input_tokens, u.cache_creation_input_tokens or 0, u.cache_read_input_tokens or 0)


def run_one_shot(base_url: str, count: int = 20) -> Totals:
    client = anthropic.Anthropic(base_url=base_url, api_key="sk-ant-bench", max_retries=0)
    totals = Totals()
    for i in range(count):
        _one_shot(client, i, totals)
    return totals


def run_mixed(base_url: str, variant: Variant, sessions: int, turns: int, seed: int) -> tuple[Totals, Totals]:
    """The agent sessions of :func:`run_anthropic` with a one-shot request after each of theirs:
    (agent totals, one-shot totals). The one-shots are sent plain by every variant."""
    client = anthropic.Anthropic(base_url=base_url, api_key="sk-ant-bench", max_retries=0)
    rnd = random.Random(seed)
    histories: list[list[dict[str, Any]]] = [[] for _ in range(sessions)]
    agent, one_shot = Totals(), Totals()
    for step, (turn, s, asking) in enumerate(_schedule(sessions, turns)):
        history = histories[s]
        if asking:
            newest: dict[str, Any] = {"role": "user", "content": _question(s, turn)}
        else:
            calls = [b for b in history[-1]["content"] if b.get("type") == "tool_use"]
            results = [
                {"type": "tool_result", "tool_use_id": c["id"], "content": f"Shipment in transit, depot {s}."}
                for c in calls
            ]
            newest = {"role": "user", "content": results}
        request = _anthropic_request(variant, history, newest, rnd)
        response = client.messages.create(model=MODEL_ANTHROPIC, max_tokens=200, **request)
        u = response.usage
        agent.add(u.input_tokens, u.cache_creation_input_tokens or 0, u.cache_read_input_tokens or 0)
        history += [
            newest,
            {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in response.content]},
        ]
        _one_shot(client, 1000 + step, one_shot)
    return agent, one_shot


def combined(*parts: Totals) -> Totals:
    total = Totals()
    for t in parts:
        total.uncached, total.write, total.read = (
            total.uncached + t.uncached,
            total.write + t.write,
            total.read + t.read,
        )
        total.requests, total.writers, total.readers = (
            total.requests + t.requests,
            total.writers + t.writers,
            total.readers + t.readers,
        )
    return total


def one_shot_table(count: int = 20) -> dict[str, Totals]:
    results: dict[str, Totals] = {}
    for label, variant, caching in (
        ("direct", "direct", {}),
        ("layercache", "layercache", {}),
        ("layercache, mark all", "layercache", {"mark_only_when_reused": False}),
    ):
        with target(variant, PrefixCacheSimulator(), **caching) as url:
            results[label] = run_one_shot(url, count)
    return results


def mixed_table(sessions: int, turns: int, seed: int = 7) -> dict[str, tuple[Totals, Totals]]:
    results: dict[str, tuple[Totals, Totals]] = {}
    for label, variant, caching in (
        ("direct", "direct", {}),
        ("hand-tuned", "hand-tuned", {}),
        ("layercache", "layercache", {}),
        ("layercache, mark all", "layercache", {"mark_only_when_reused": False}),
    ):
        with target(variant, PrefixCacheSimulator(), **caching) as url:
            results[label] = run_mixed(url, variant, sessions, turns, seed)
    return results


def _automatic_request(variant: Variant, history: list[Any], newest: dict[str, Any], rnd: random.Random) -> Any:
    base = "hand-tuned" if variant == "hand-tuned" else "layercache" if variant.startswith("layercache") else "direct"
    request = _anthropic_request(base, history, newest, rnd)
    if base == "hand-tuned":  # a careful client that relies on automatic caching alone: no markers of its own
        request = {
            "system": SYSTEM,
            "tools": anthropic_tools(None),
            "messages": json_without_markers(request["messages"]),
        }
    request["extra_body"] = {**request.get("extra_body", {}), "cache_control": CC}
    return request


def json_without_markers(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: json_without_markers(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [json_without_markers(v) for v in value]
    return value


def run_automatic(base_url: str, variant: Variant, sessions: int, turns: int, seed: int) -> Totals:
    client = anthropic.Anthropic(base_url=base_url, api_key="sk-ant-bench", max_retries=0)
    rnd = random.Random(seed)
    histories: list[list[dict[str, Any]]] = [[] for _ in range(sessions)]
    totals = Totals()
    for turn, s, asking in _schedule(sessions, turns):
        history = histories[s]
        if asking:
            newest: dict[str, Any] = {"role": "user", "content": _question(s, turn)}
        else:
            calls = [b for b in history[-1]["content"] if b.get("type") == "tool_use"]
            results = [
                {"type": "tool_result", "tool_use_id": c["id"], "content": f"Shipment in transit, depot {s}."}
                for c in calls
            ]
            newest = {"role": "user", "content": results}
        request = _automatic_request(variant, history, newest, rnd)
        response = client.messages.create(model=MODEL_ANTHROPIC, max_tokens=200, **request)
        u = response.usage
        totals.add(u.input_tokens, u.cache_creation_input_tokens or 0, u.cache_read_input_tokens or 0)
        history += [
            newest,
            {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in response.content]},
        ]
    return totals


def automatic_table(sessions: int, turns: int, seed: int = 7) -> dict[str, Totals]:
    """The agent app with Anthropic's top-level ``cache_control``: direct, a noise-free client
    relying on it alone, and through layercache-asgi with and without the proxy's markers."""
    results: dict[str, Totals] = {}
    no_markers = [s for s in DEFAULT_STAGES if s is not InjectCacheMarkers]
    for label, variant, stages in (
        ("direct, automatic", "direct", None),
        ("hand-tuned, automatic only", "hand-tuned", None),
        ("layercache, automatic + markers", "layercache", None),
        ("layercache, automatic only", "layercache", no_markers),
    ):
        with serve(PrefixCacheSimulator()) as upstream:
            if variant != "layercache":
                results[label] = run_automatic(upstream, variant, sessions, turns, seed)
                continue
            with (
                tempfile.TemporaryDirectory() as folder,
                serve(LayerCacheApp(proxy_settings(upstream, folder), stages=stages)) as url,
            ):
                results[label] = run_automatic(url, variant, sessions, turns, seed)
    return results


def _row(label: str, t: Totals, direct: Totals, tuned: Totals | None = None) -> str:
    vs_tuned = f"{t.cost_index / tuned.cost_index:>9.3f}" if tuned is not None and tuned.cost_index else f"{'-':>9}"
    return (
        f"{label:<34} {t.requests:>8} {t.writers:>7} {t.cached_fraction:>7.1%} {t.cost_index:>9.3f} "
        f"{t.cost_index / direct.cost_index:>9.3f} {vs_tuned}"
    )


def print_extra_sections(sessions: int, turns: int, seed: int) -> None:
    header = f"{'':<34} {'requests':>8} {'writes':>7} {'cached':>7} {'cost idx':>9} {'vs direct':>9} {'vs tuned':>9}"
    shots = one_shot_table()
    print("\nOne-shot (Anthropic): 20 requests, each with its own ~3,000-token system prompt\n")
    print(header)
    for label, t in shots.items():
        print(_row(label, t, shots["direct"]))
    mixed = mixed_table(sessions, turns, seed)
    print(f"\nMixed (Anthropic): {sessions} agent sessions x {turns} turns, a one-shot request after each request\n")
    print(header)
    tuned_all = combined(*mixed["hand-tuned"])
    direct_all = combined(*mixed["direct"])
    for label, (agent, shot) in mixed.items():
        print(_row(label, combined(agent, shot), direct_all, tuned_all))
    for label in ("layercache", "layercache, mark all"):
        agent, shot = mixed[label]
        ratio = agent.cached_fraction / mixed["hand-tuned"][0].cached_fraction
        print(
            f"{label}: agent requests reach {ratio:.1%} of the hand-tuned cached fraction (goal >= 99%); "
            f"one-shots cost {shot.cost_index / mixed['direct'][1].cost_index:.3f}x direct (goal <= 1.02)"
        )
    auto = automatic_table(sessions, turns, seed)
    print(f"\nAutomatic caching (top-level cache_control, Anthropic): {sessions} sessions x {turns} turns\n")
    print(header)
    for label, t in auto.items():
        print(_row(label, t, auto["direct, automatic"], auto["hand-tuned, automatic only"]))


def main() -> None:
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # the SDKs' model-deprecation notices
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=6)
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    results = prefix_cache_table(args.sessions, args.turns, args.seed)
    print(f"\nPrefix cache: {args.sessions} interleaved sessions x {args.turns} turns (2 requests per turn)\n")
    print(f"{'provider':<10} {'variant':<22} {'requests':>8} {'prompt tok':>11} {'cached':>8} {'cost idx':>9}")
    for (provider, variant), t in results.items():
        print(
            f"{provider:<10} {variant:<22} {t.requests:>8} {t.prompt:>11} "
            f"{t.cached_fraction:>7.1%} {t.cost_index:>9.3f}"
        )
    for provider in PROVIDERS:
        ours, tuned = results[(provider, "layercache")], results[(provider, "hand-tuned")]
        ratio = ours.cached_fraction / tuned.cached_fraction if tuned.cached_fraction else 0.0
        print(f"{provider}: layercache reaches {ratio:.1%} of the hand-tuned cached fraction (goal >= 98%)")
    for (provider, variant), t in results.items():
        if t.storage_token_hours:
            extra = t.storage_token_hours * GEMINI_STORAGE_PER_TOKEN_HOUR
            print(
                f"{provider} {variant}: {t.created} tokens in CachedContents, stored {t.storage_token_hours:.0f} "
                f"token-hours (TTL {GEMINI_TTL} s): {extra:.0f} input-token equivalents at 2.5 Flash prices, "
                f"+{extra / t.prompt:.3f} on the cost index if this run were the TTL's only traffic"
            )
    fan = warmup_fanout()
    print("\nWarm-up gate: 8 concurrent requests sharing a new prefix, responses start after 300 ms\n")
    print(f"{'':<10} {'writes':>7} {'reads':>6} {'write tok':>10} {'read tok':>9} {'cost idx':>9}")
    for label, t in fan.items():
        print(f"{label:<10} {t.writers:>7} {t.readers:>6} {t.write:>10} {t.read:>9} {t.cost_index:>9.3f}")
    print_extra_sections(args.sessions, args.turns, args.seed)


if __name__ == "__main__":
    main()
