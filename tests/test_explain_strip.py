"""Taking the provider's ``diagnostics`` member out of an answer leaves every other byte as it was,
whatever the answer's strings hold (quotes, runs of backslashes, brackets, non-ASCII)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from layercache_asgi.explain._strip import found, remove_member

texts = st.text(alphabet=st.sampled_from(['"', "\\", "{", "}", "[", "]", ",", ":", "a", " ", "é", "\n"]), max_size=40)
values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


members = st.dictionaries(texts, values, max_size=4)


@given(before=members, after=members, removed=values)
def test_only_the_member_goes(before: dict[str, Any], after: dict[str, Any], removed: Any) -> None:
    before.pop("diagnostics", None)
    after.pop("diagnostics", None)
    answer = {**before, "diagnostics": removed, **{k: v for k, v in after.items() if k not in before}}
    for spacing in ((",", ":"), (", ", ": ")):
        text = json.dumps(answer, ensure_ascii=False, separators=spacing).encode()
        stripped, value = remove_member(text, ("diagnostics",))
        assert found(value) and value == removed
        rest = {k: v for k, v in answer.items() if k != "diagnostics"}
        assert stripped == json.dumps(rest, ensure_ascii=False, separators=spacing).encode()


def test_an_answer_without_the_member_or_broken_is_left_alone() -> None:
    for text in (b'{"a": "x\\"diagnostics\\"": 1}', b'{"a": "unterminated', b"[1, 2]", b""):
        stripped, value = remove_member(text, ("diagnostics",))
        assert stripped == text and not found(value)
