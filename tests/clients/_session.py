"""What every client session test checks, whichever client ran it."""

from __future__ import annotations

import json
from typing import Any

from layercache_asgi.testing import FakeProvider, RecordedRequest, count_tokens

__all__ = ["SYSTEM", "billed_cache_read", "billed_output", "conversation_requests", "roles"]

# Long enough for every provider's prefix cache (Sonnet 4.6 needs 2048 tokens), so the proxy marks it.
SYSTEM = "You are terse. " + " ".join(f"Rule {i}: answer in plain words." for i in range(400))


def billed_output(*texts: str) -> int:
    """The output tokens the fake provider bills for these answers."""
    return sum(count_tokens(t) for t in texts)


def billed_cache_read(fake: FakeProvider, request: RecordedRequest | None = None) -> int:
    """The cached prompt tokens the provider billed for the second turn ("say bye"): it reads the
    prefix the first turn wrote (the system prompt, cached through the client's or the proxy's
    markers or key)."""
    if request is None:
        request = [r for r in fake.requests if "say bye" in json.dumps(r.body)][-1]
    usage = fake.usage_of(request)  # type: ignore[attr-defined]  # tests/clients/conftest.py: EchoProvider
    assert usage.cache_read > 0, usage
    return int(usage.cache_read)


def conversation_requests(fake: FakeProvider, path: str) -> list[RecordedRequest]:
    requests = [r for r in fake.requests if r.path == path]
    assert len(requests) == 2, [(r.path, r.body.get("stream")) for r in fake.requests]
    return requests


def roles(body: dict[str, Any]) -> list[str]:
    return [str(m.get("role")) for m in body.get("messages") or body.get("input") or []]
