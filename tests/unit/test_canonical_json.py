"""Canonical JSON: the fast path writes exactly what rfc8785 writes, and refuses what it refuses."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from governance import canonical

SAFE = 2**53 - 1

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.text(alphabet=st.characters(max_codepoint=0x1F))
    | st.sampled_from(["", '"', "\\", "\u2028", "\u007f", "\ufb33", "\U0001f600", "\u20ac"])
)
keys = st.text(max_size=8) | st.sampled_from(["a", "\r", "1", "\u20ac", "\ufb33", "\U0001f600"])
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=30,
)


def outcome(function: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", function(value)
    except rfc8785.CanonicalizationError as error:
        return "refused", type(error)


class TestCanonicalJson:
    @settings(max_examples=400)
    @given(values)
    def test_writes_the_same_bytes_as_rfc8785_for_any_json_value(self, value: Any) -> None:
        assert outcome(canonical.dumps, value) == outcome(rfc8785.dumps, value)

    def test_matches_the_rfc_8785_sorting_example(self) -> None:
        # RFC 8785 section 3.2.3: keys ordered by UTF-16 code units, not by code points.
        value = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
                 "1": "One", "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}  # fmt: skip
        expected = [
            "\r",
            "1",
            "\u0080",
            "\u00f6",
            "\u20ac",
            "\U0001f600",
            "\ufb33",
        ]
        written = canonical.dumps(value).decode("utf-8")
        positions = [written.index(f'"{k}"' if k != "\r" else '"\\r"') for k in expected]
        assert positions == sorted(positions)

    def test_takes_the_fast_path_for_a_signed_statement_and_not_for_a_float(self) -> None:
        statement = {
            "actor": "PC-1",
            "version": 3,
            "payload": {"note": "a\nb", "ok": True, "x": None},
        }
        assert canonical._plain(statement)
        assert not canonical._plain({"ratio": 0.5})
        assert not canonical._plain({"big": SAFE + 1})
        assert not canonical._plain({"\u00e9": 1})
        assert canonical.dumps(statement) == rfc8785.dumps(statement)

    def test_refuses_a_lone_surrogate_as_rfc8785_does(self) -> None:
        with pytest.raises(rfc8785.CanonicalizationError):
            canonical.dumps({"name": "\ud800"})

    def test_refuses_an_integer_beyond_the_safe_range_as_rfc8785_does(self) -> None:
        with pytest.raises(rfc8785.IntegerDomainError):
            canonical.dumps([SAFE + 1])
