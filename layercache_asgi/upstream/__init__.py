"""Calling providers: deployments and failover chains, the fast path and the LiteLLM path.

One attempt against one deployment (:mod:`._attempt`), LiteLLM's translation path
(:mod:`._litellm_path`), provider settings and chains (:mod:`._providers`, :mod:`._target`),
relayed headers, the model catalogue and token counting for ``count_tokens``.
"""
