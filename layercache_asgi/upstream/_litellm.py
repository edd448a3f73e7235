"""The one place LiteLLM is imported. Import this module lazily: it costs seconds.

LiteLLM would fetch its model price map over the network at import; the copy it
ships is used instead, so start-up never depends on the network.
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_LOG", "ERROR")

import litellm

from .._logging import route_litellm_logs

route_litellm_logs()  # LiteLLM's lines in our format, not its own
litellm.telemetry = False
litellm.suppress_debug_info = True
litellm.drop_params = True  # a param a provider cannot take is dropped, not an error
# /v1/messages to OpenAI-compatible servers: chat completions, which every such server has.
litellm.use_chat_completions_url_for_anthropic_messages = True

__all__ = ["litellm"]
