"""Prompt enhancements injected at L3 (after the history, before the newest input).

Built-ins: ``chain_of_thought``, ``structured_json``, ``self_critique``,
``dynamic_few_shot``. Add your own to a registry from :func:`default_registry`.
"""

from __future__ import annotations

from ._builtin import chain_of_thought, self_critique, structured_json
from ._few_shot import dynamic_few_shot
from ._registry import Addition, Enhancement, EnhancementRegistry

__all__ = ["Addition", "Enhancement", "EnhancementRegistry", "default_registry"]


def default_registry() -> EnhancementRegistry:
    """A new registry holding the built-in enhancements."""
    registry = EnhancementRegistry()
    registry.register("chain_of_thought", chain_of_thought, options=["text"])
    # "Only a JSON object" and "think step by step before answering" cannot both be followed.
    registry.register("structured_json", structured_json, options=["schema", "name"], excludes=["chain_of_thought"])
    registry.register("self_critique", self_critique, options=["text"])
    registry.register("dynamic_few_shot", dynamic_few_shot, options=["top_k"])
    return registry
