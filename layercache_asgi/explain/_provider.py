"""Anthropic's cache diagnostics: ask why a prefix missed, read the answer, compare it with the proxy's.

A request that carries ``diagnostics: {"previous_message_id": "msg_..."}`` (beta header
``cache-diagnosis-2026-04-07``) makes Anthropic keep a fingerprint of it under its answer's
``id`` and compare it with the fingerprint of the named earlier answer. The answer then
holds ``diagnostics``: ``null`` when nothing diverged, else ``{"cache_miss_reason": {"type":
..., "cache_missed_input_tokens": N}}`` with ``type`` one of :data:`REASONS`
(``cache_miss_reason`` is ``null`` while the comparison is still running). Streaming, the
object is on the ``message``  of ``message_start``. ``previous_message_id: null`` opts in
without a comparison, so the next request has something to compare with.

The proxy adds the field on the Anthropic fast path only (it is not sent through LiteLLM,
whose other providers have no such field), naming the answer of the request its own diff
compared against, so the two verdicts are about the same pair of requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from ..prompt._state import AppBound, prompt_state

if TYPE_CHECKING:
    from ..upstream._providers import Deployment

__all__ = ["BETA", "REASONS", "Diagnosed", "Diagnosis", "attach_diagnostics", "diagnostics_refused", "field_of"]

log = structlog.get_logger("layercache.prefix")

BETA = "cache-diagnosis-2026-04-07"
REASONS = (
    "model_changed",
    "system_changed",
    "tools_changed",
    "messages_changed",
    "previous_message_not_found",
    "unavailable",
)
# What the proxy reports besides REASONS: the provider found no divergence, or had not finished.
NO_DIVERGENCE, PENDING = "none", "pending"


def field_of(path: str | None) -> str | None:
    """The top-level request field a block path is in: ``tools[3]`` → tools."""
    if path is None:
        return None
    name = path.partition("[")[0].partition(".")[0]
    return name if name in ("tools", "system", "messages") else "other"


@dataclass
class Diagnosis:
    """One request's cache diagnosis: what was asked, and what the provider said."""

    previous_id: str | None  # the answer compared with, the proxy's or the client's (None: opt in only)
    client_asked: bool  # the client sent its own ``diagnostics``: passed through, answer left as is
    proxy_field: str | None  # where the proxy saw the request diverge from that one (None: it extends it)
    beta: str | None = BETA
    sent: bool = False  # the field went to an Anthropic deployment
    injected: bool = False  # ... and the proxy added it (so it strips the answer)
    reason: str | None = None  # a REASONS entry, NO_DIVERGENCE or PENDING; None: no diagnosis
    missed_tokens: int | None = None

    def read(self, value: Any) -> None:
        """Take the answer's ``diagnostics`` value (present in the answer: null means no divergence)."""
        if value is None:
            if self.previous_id is not None:  # else there was nothing to compare with
                self.reason = NO_DIVERGENCE
            return
        if not isinstance(value, dict):
            return
        cause = value.get("cache_miss_reason")
        if cause is None:
            self.reason = PENDING
        elif isinstance(cause, dict) and isinstance(cause.get("type"), str):
            kind = cause["type"]
            self.reason = kind if kind in REASONS else "other"
            tokens = cause.get("cache_missed_input_tokens")
            self.missed_tokens = tokens if isinstance(tokens, int) else None

    @property
    def agrees(self) -> bool | None:
        """Whether provider and proxy name the same diverging field; None when not comparable."""
        if self.client_asked or self.previous_id is None:
            return None  # the client's own reference, or nothing compared
        if self.reason == NO_DIVERGENCE:
            return self.proxy_field is None
        if self.reason in ("model_changed", "system_changed", "tools_changed", "messages_changed"):
            return self.reason == f"{self.proxy_field}_changed"
        return None


def _add_beta(headers: dict[str, str], beta: str) -> None:
    present = [b.strip() for b in headers.get("anthropic-beta", "").split(",") if b.strip()]
    if beta not in present:
        headers["anthropic-beta"] = ",".join([*present, beta])


class Diagnosed(AppBound, Protocol):
    """What the provider side of the diagnosis reads of a request: an Exchange is one."""

    @property
    def diagnosis(self) -> Diagnosis | None: ...
    @property
    def request_id(self) -> str: ...


def attach_diagnostics(
    exchange: Diagnosed, deployment: Deployment, body: dict[str, Any], headers: dict[str, str]
) -> None:
    """On the Anthropic fast path: add the ``diagnostics`` field (and its beta header) to the upstream body."""
    diagnosis = exchange.diagnosis
    if diagnosis is None:
        return
    diagnosis.sent = diagnosis.injected = False
    if deployment.provider != "anthropic":
        return
    if diagnosis.client_asked:
        diagnosis.sent = True
        return
    if deployment.name in prompt_state(exchange).diagnostics_refused:
        return
    body["diagnostics"] = {"previous_message_id": diagnosis.previous_id}
    if diagnosis.beta:
        _add_beta(headers, diagnosis.beta)
    diagnosis.sent = diagnosis.injected = True


def diagnostics_refused(exchange: Diagnosed, deployment: Deployment, status: int, message: str) -> bool:
    """A 400 about the field the proxy added: never send it to that deployment again (try once more without)."""
    diagnosis = exchange.diagnosis
    if diagnosis is None or not diagnosis.injected or status != 400:
        return False
    if "diagnostics" not in message and "cache-diagnosis" not in message:
        return False
    prompt_state(exchange).diagnostics_refused.add(deployment.name)
    diagnosis.sent = diagnosis.injected = False
    log.warning("provider_diagnostics_refused", deployment=deployment.name, request_id=exchange.request_id)
    return True
