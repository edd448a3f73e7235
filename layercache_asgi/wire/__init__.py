"""Wire formats the proxy speaks beside chat completions and messages.

The OpenAI Responses API (``POST /v1/responses``) lives in :mod:`._responses`; the two
older formats join this folder in a later regrouping.
"""

from __future__ import annotations

from ._responses import (
    RESPONSES_FIELDS,
    ResponsesStream,
    check_responses_body,
    completion_from_json,
    item_role,
    render_json,
    render_sse,
    stateful_fields,
    usage_from_wire,
)

__all__ = [
    "RESPONSES_FIELDS",
    "ResponsesStream",
    "check_responses_body",
    "completion_from_json",
    "item_role",
    "render_json",
    "render_sse",
    "stateful_fields",
    "usage_from_wire",
]
