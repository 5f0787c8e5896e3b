"""RFC 8785 canonical JSON: the ``rfc8785`` library, with the standard library's C encoder where equal.

For the values this store signs (strings, integers within JSON's safe range, booleans, nulls, and
objects whose keys are ASCII) RFC 8785 and ``json.dumps(sort_keys=True, ensure_ascii=False)`` with
compact separators write the same bytes: the same string escapes (the six short forms, other control
characters as lowercase ``\\u00xx``, everything else as UTF-8), and ASCII keys sort the same by code
point as by UTF-16 code unit. The C encoder is many times faster than ``rfc8785``'s pure-Python one.
Any other value (a float, a large integer, a non-ASCII key, a type that is not exactly a JSON type)
goes to ``rfc8785``, which stays the definition: a property test holds the two equal.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

_SAFE = 2**53 - 1
_encode = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
).encode


def dumps(value: Any) -> bytes:
    """The RFC 8785 serialisation of ``value`` (raises ``rfc8785``'s errors for what it refuses)."""
    if _plain(value):
        try:
            return _encode(value).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let rfc8785 refuse it in its own words
    return rfc8785.dumps(value)


def _plain(value: Any) -> bool:
    """True if every part of ``value`` is a type whose two serialisations agree."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is int:
            if -_SAFE <= item <= _SAFE:
                continue
            return False
        if kind is dict:
            for key in item:
                if type(key) is not str or not key.isascii():
                    return False
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        else:
            return False
    return True
