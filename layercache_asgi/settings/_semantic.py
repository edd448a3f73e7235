"""The semantic cache's settings (``caching.semantic``) and its optional second-stage verifier."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ._base import Section

__all__ = ["SemanticCacheSettings", "VerifierSettings"]


class VerifierSettings(Section):
    """A second-stage verifier: a cross-encoder asked whether a candidate answers the question."""

    model_path: str | None = Field(
        default=None,
        description="ONNX cross-encoder: a folder with model.onnx and tokenizer.json (or the .onnx file, its "
        "tokenizer.json beside it). Unset: no verifier.",
    )
    threshold: float = Field(default=0.5, ge=0.0, le=1.0, description="Minimum score for 'the same question'.")
    when: Literal["pass", "unsure", "always"] = Field(
        default="pass",
        description="pass: it may veto what the guard passes; unsure: it decides what the guard is unsure of; "
        "always: both.",
    )
    max_length: int = Field(default=256, ge=8, le=4096, description="Tokens of the question pair kept.")


class SemanticCacheSettings(Section):
    enabled: bool = True
    model: str = Field(default="BAAI/bge-small-en-v1.5", description="fastembed model name.")
    model_path: str | None = Field(default=None, description="Local model folder (ONNX + tokenizer) for offline use.")
    similarity_threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Minimum cosine between the new and the cached user input for a hit (unset: per model).",
    )
    word_similarity: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Minimum cosine of two single words for the guard to treat them as the same (unset: per model).",
    )
    guard: bool = Field(
        default=True,
        description="Reject near-misses cosine cannot see (numbers, names, negation, antonyms, direction).",
    )
    verifier: VerifierSettings = VerifierSettings()
    include_tools: bool = Field(
        default=False,
        description="Also cache requests that carry tools, tool calls or tool results (agent turns; off: never).",
    )
    max_messages: int | None = Field(
        default=4,
        ge=1,
        description="Leave conversations longer than this many messages (system ones not counted) uncached; "
        "null: any length.",
    )
    default_ttl: int = Field(
        default=300, ge=0, description="Seconds an answer stays cached (per request: lc_cache_ttl)"
    )
    max_entries: int = Field(default=10_000, ge=1, description="Size cap; least recently used entries are evicted.")
    purge_interval_seconds: float = Field(default=60.0, gt=0, description="How often expired entries are deleted.")
    single_flight_wait_seconds: float = Field(default=60.0, ge=0, description="How long identical requests wait.")
    model_load_wait_seconds: float = Field(
        default=10.0,
        ge=0,
        description=(
            "Start-up waits this long for an embedding model read from model_path; a model fastembed loads "
            "by name (and may download) never holds start-up. Requests bypass the cache until it loads."
        ),
    )
