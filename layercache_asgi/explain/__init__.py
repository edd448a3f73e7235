"""What the miss explainer knows besides layers: where a block changed, and what the provider says.

:mod:`._where` finds the first differing block and the byte offset in it; :mod:`._provider`
asks Anthropic's cache diagnostics and compares its reason with the proxy's; :mod:`._strip`
and :mod:`._responder` read that reason from the answer and take it out again for clients
that did not ask for it.
"""

from __future__ import annotations

from ._provider import BETA, REASONS, Diagnosis, attach_diagnostics, diagnostics_refused, field_of
from ._responder import DiagnosedSend
from ._strip import EventFilter, remove_member
from ._where import (
    BlockPrint,
    ChunkPrint,
    Where,
    block_texts,
    chunk_print,
    first_block_difference,
    locate,
    part_texts,
    prints_of,
)

__all__ = [
    "BETA",
    "REASONS",
    "BlockPrint",
    "ChunkPrint",
    "DiagnosedSend",
    "Diagnosis",
    "EventFilter",
    "Where",
    "attach_diagnostics",
    "block_texts",
    "chunk_print",
    "diagnostics_refused",
    "field_of",
    "first_block_difference",
    "locate",
    "part_texts",
    "prints_of",
    "remove_member",
]
