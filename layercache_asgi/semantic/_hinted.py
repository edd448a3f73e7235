"""Rewrite rules that each carry a hint: a lower-case substring every text the rule matches holds.

A question without a rule's hint skips that rule's regex scan (one substring test instead).
Outside ASCII every rule runs: under IGNORECASE a pattern can match what ``str.lower()`` does
not give (the Kelvin sign matches "k", the long s "s").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

__all__ = ["Rule", "rewrite"]

Rule = tuple[str, re.Pattern[str], str | Callable[[re.Match[str]], str]]  # (hint, pattern, replacement)


def rewrite(text: str, rules: Sequence[Rule]) -> str:
    """``text`` with ``rules`` applied in order, each only where its hint is (in ASCII text)."""
    ascii_text = text.isascii()
    lowered = text.lower()
    for hint, pattern, replacement in rules:
        if ascii_text and hint not in lowered:
            continue
        text, replaced = pattern.subn(replacement, text)
        if replaced:
            lowered = text.lower()  # a rule's output may hold the next rule's hint
    return text
