"""The orjson fast path of ``_json.loads``/``dumps`` gives exactly what the ``json`` path gives."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layercache_asgi.prompt._layers import digest, strip_markers
from layercache_asgi.wire._json import JsonFloat, JsonLimitError, _exact_loads, dumps, loads

_scalars = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text()
_floats = st.floats(allow_nan=False, allow_infinity=False)
_json_values = st.recursive(
    _scalars | _floats,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (1 and 1.0 differ; so do float and JsonFloat)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) or (a != a and b != b)


@settings(max_examples=300, deadline=None)
@given(_json_values, st.booleans())
def test_fast_loads_matches_the_exact_path(value: Any, ascii_only: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert _same(loads(raw), _exact_loads(raw))
    parsed, kept = loads(raw)
    assert dumps(parsed, exact=kept) == dumps(parsed, exact=True)


@pytest.mark.parametrize(
    "raw",
    [b"[1e3]", b"[0.10]", b"[1E+2]", b"[1.5e-07]", b'{"a": 123456789012345678901234567890}', b"[-0.0, 2.50]"],
)
def test_numbers_keep_their_spelling(raw: bytes) -> None:
    value, kept = loads(raw)
    assert dumps(value, exact=kept) == raw.replace(b" ", b"")


def test_numbers_next_to_escaped_quotes_and_backslashes_are_found() -> None:
    """Strings are cut out escapes first: a number after ``\\"`` or ``\\\\`` is seen as outside a string."""
    value, kept = loads(b'{"s": "a \\"1e3\\" b\\\\", "n": 1e3, "m": [true, false, null, -12, 1.5]}')
    assert kept and isinstance(value["n"], JsonFloat) and value["s"] == 'a "1e3" b\\'
    assert dumps(value, exact=kept) == b'{"s":"a \\"1e3\\" b\\\\","n":1e3,"m":[true,false,null,-12,1.5]}'
    plain, kept = loads(b'{"s": "no backslash 1e3", "n": [1.5, -7, 123456789012345678]}')
    assert not kept and plain["n"] == [1.5, -7, 123456789012345678]


def test_unusual_float_is_a_json_float() -> None:
    value, kept = loads(b'{"t": 1.50, "s": "1.50 \\" [[[", "n": 7}')
    assert kept and isinstance(value["t"], JsonFloat) and value["t"].literal == "1.50"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[" * 129 + b"]" * 129, "nested deeper"),
        (b'{"a":' * 129 + b"1" + b"}" * 129, "nested deeper"),
        (b'"\\ud800"', "lone surrogate"),
        (b'["\\udc00 x"]', "lone surrogate"),
        (b"[1e999]", "too large"),
    ],
)
def test_limits_hold_on_the_fast_path(raw: bytes, message: str) -> None:
    with pytest.raises(JsonLimitError, match=message):
        loads(raw)


def test_depth_within_the_limit_and_brackets_in_strings() -> None:
    deep = b"[" * 128 + b"]" * 128
    assert loads(deep)[0] is not None
    text = json.dumps({"s": "[" * 500 + '\\"{' * 300, "t": ["]"]}).encode()
    assert loads(text)[0]["t"] == ["]"]


@pytest.mark.parametrize(
    "raw", [b"NaN", b"[Infinity]", b"{bad", b"\xff", b"[tru]", b"[1.]", b"[-]", b"[01]", b"[1_0]", b'{"a": -nan}']
)
def test_invalid_json_still_refused(raw: bytes) -> None:
    with pytest.raises(ValueError):
        loads(raw)


@settings(max_examples=200, deadline=None)
@given(_json_values)
def test_digest_is_the_json_digest(value: Any) -> None:
    """The orjson digest hashes the bytes ``json.dumps`` writes for parsed bodies (markers excluded)."""
    parsed = loads(json.dumps({"x": value, "cache_control": {"type": "ephemeral"}}).encode())[0]
    import hashlib

    expected = hashlib.sha256(
        json.dumps(strip_markers(parsed), ensure_ascii=False, separators=(",", ":")).encode() + b"\x00"
    ).hexdigest()
    assert digest(parsed) == expected
