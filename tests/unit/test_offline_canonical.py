"""The offline verifier's own RFC 8785 serialiser (``governance.offline.statement.canonical``,
standard library only) writes what the ``rfc8785`` package writes, and what RFC 8785's examples
give; its strict parser refuses a key given twice and the non-JSON constants."""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.offline.statement import (
    SAFE,
    StatementError,
    canonical,
    es6_number,
    strict_json,
)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-SAFE, max_value=SAFE)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(VALUES)
def test_canonical_equals_the_rfc8785_package(value: Any) -> None:
    assert canonical(value).encode("utf-8") == rfc8785.dumps(value)


@settings(max_examples=2000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_double_is_written_as_the_rfc8785_package_writes_it(value: float) -> None:
    assert es6_number(value) == rfc8785.dumps(value).decode()


@settings(max_examples=500, deadline=None)
@given(VALUES)
def test_canonical_text_parses_back_to_itself(value: Any) -> None:
    text = canonical(value)
    assert canonical(strict_json(text)) == text


# RFC 8785 Appendix B: IEEE 754 doubles (as hex bits) and their ECMAScript form.
NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), NUMBERS)
def test_rfc8785_number_examples(bits: str, expected: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(bits))
    assert es6_number(value) == expected


def test_rfc8785_example_of_section_3_2_2() -> None:
    text = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical(json.loads(text)) == expected
    assert canonical(strict_json(text)) == expected


def test_rfc8785_key_sorting_example_of_section_3_2_3() -> None:
    keys = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\u0080", "\u00f6"]
    text = canonical({key: index for index, key in enumerate(keys)})
    order = ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert list(json.loads(text)) == order


@pytest.mark.parametrize(
    "value", [2**53, -(2**53), math.nan, math.inf, "\ud800", {1: "x"}, {"a": b"x"}]
)
def test_what_has_no_canonical_form_is_refused_as_the_package_refuses_it(value: Any) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        canonical(value)
    with pytest.raises(rfc8785.CanonicalizationError):
        rfc8785.dumps(value)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"a":1,"b":2,"a":3}', "duplicate key 'a'"),
        ('{"x":{"k":1,"k":1}}', "duplicate key 'k'"),
        ('{"a":NaN}', "NaN is not JSON"),
        ('{"a":-Infinity}', "-Infinity is not JSON"),
        ('{"a":1', "not JSON"),
    ],
)
def test_strict_json_refuses(text: str, problem: str) -> None:
    with pytest.raises(StatementError, match=problem):
        strict_json(text)


def test_numbers_are_read_as_doubles_so_a_non_canonical_number_shows() -> None:
    assert canonical(strict_json("9007199254740993")) == "9007199254740992"
    assert canonical(strict_json("-0")) == "0"
    assert canonical(strict_json("1.0")) == "1"
    assert canonical(strict_json("1e2")) == "100"
