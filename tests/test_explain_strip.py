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


nested = st.recursive(
    values | st.just("diagnostics") | st.just('x"diagnostics": 1'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts | st.just("diagnostics"), inner, max_size=3),
    max_leaves=10,
)


@given(before=members, after=members, removed=nested, inside=nested, escaped=st.booleans())
def test_the_fast_path_takes_what_the_walk_takes(
    before: dict[str, Any], after: dict[str, Any], removed: Any, inside: Any, escaped: bool
) -> None:
    # "diagnostics" also as a nested key and inside strings; the top-level key sometimes spelled with an escape.
    from layercache_asgi.explain._strip import _remove_walking

    before.pop("diagnostics", None)
    answer = {**before, "content": inside, "diagnostics": removed, **after}
    for spacing in ((",", ":"), (", ", ": ")):
        text = json.dumps(answer, ensure_ascii=False, separators=spacing).encode()
        if escaped:
            text = text.replace(b'"diagnostics"' + spacing[1].encode(), b'"diagnostic\\u0073"' + spacing[1].encode(), 1)
        assert remove_member(text, ("diagnostics",)) == _remove_walking(text, ("diagnostics",))
        assert remove_member(b"  " + text + b" x", ("diagnostics",)) == _remove_walking(
            b"  " + text + b" x", ("diagnostics",)
        )


def test_a_nested_or_escaped_spelling_is_decided_as_the_walk_does() -> None:
    nested = b'{"a": {"diagnostics": 1}, "b": "\\"diagnostics\\": 2"}'
    assert remove_member(nested, ("diagnostics",)) == (nested, remove_member(b"", ("diagnostics",))[1])
    escaped = b'{"a": {"diagnostics": 1}, "diagnostic\\u0073": 2, "b": 3}'
    assert remove_member(escaped, ("diagnostics",)) == (b'{"a": {"diagnostics": 1}, "b": 3}', 2)
    plain_after = b'{"x": "say \\"diagnostics\\": 1", "diagnostics": null}'
    assert remove_member(plain_after, ("diagnostics",)) == (b'{"x": "say \\"diagnostics\\": 1"}', None)
