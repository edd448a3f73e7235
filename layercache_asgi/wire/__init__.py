"""The wire formats the proxy speaks: parsing, checking and rendering each client format.

OpenAI chat completions (:mod:`._openai`), Anthropic Messages (:mod:`._anthropic`) and the
OpenAI Responses API (:mod:`._responses`), the provider-neutral :class:`._completion.Completion`
they all parse into, the per-format field allowlists (:mod:`._fields`), SSE framing, JSON that
keeps numbers' spelling, and bounded body reading. Nothing here knows about providers or stages.
"""
