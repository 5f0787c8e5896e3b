"""Strict, canonical parsing of a stored event for the offline verifier: the envelope and its statement.

Part of ``python -m governance.offline.bundle`` (see docs/bundle-format.md and docs/event-format.md).
An insider holding real keys can sign bytes that no honest writer produces; each is refused here:

- an envelope that is not exactly ``{"sealed", "signature", "statement"}``, or has a key twice;
- a statement with a key given twice, that is not byte for byte its own RFC 8785 form (whitespace,
  key order, escapes, number forms), with unknown or missing fields or fields of the wrong type, or
  with a ``recorded_at`` or ``effective_at`` that is not ``YYYY-MM-DDTHH:MM:SS.ffffffZ``;
- a payload whose fields are not exactly its event type's (``payload_fields.PAYLOAD_FIELDS``);
- a ciphertext in ``sealed`` that no sealed field of the statement commits to.

Standard library only: RFC 8785 serialisation is implemented here for the JSON values a statement
holds (``canonical``); a property test holds it equal to the ``rfc8785`` package.
"""

from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from governance.domain.payload_fields import PAYLOAD_FIELDS

FORMAT = "watchlist-event/1"
SEALED_ALG = "AES-256-GCM"
#: The keys of the stored envelope: exactly these.
ENVELOPE_KEYS = frozenset({"sealed", "signature", "statement"})
TEXT_FIELDS = ("origin", "stream", "type", "recorded_at", "effective_at", "actor", "key_id", "prev")
#: Every field of a statement, each with the one JSON type it must have (nothing else is allowed).
FIELD_TYPES: dict[str, type] = {
    "format": str,
    **{name: str for name in TEXT_FIELDS},
    "version": int,
    "payload": dict,
}
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
INSTANT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
#: Integers RFC 8785 writes as such: those an IEEE 754 double holds exactly.
SAFE = 2**53 - 1
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_ESCAPES.update({chr(c): f"\\u{c:04x}" for c in range(0x20) if chr(c) not in _ESCAPES})
_TO_ESCAPE = re.compile(r'["\\\x00-\x1f]')


class StatementError(ValueError):
    """The stored bytes are not an envelope an honest writer produces; the message says why."""


@dataclass(frozen=True)
class Parsed:
    """A strictly parsed envelope: the statement, its exact signed bytes, signature, ciphertexts."""

    statement: dict[str, Any]
    signed: bytes
    signature: bytes
    sealed: dict[str, str]


# -- RFC 8785 -------------------------------------------------------------------------------


def canonical(value: Any) -> str:
    """The RFC 8785 (JSON Canonicalization Scheme) text of a JSON value: objects with keys sorted
    by UTF-16 code units, no whitespace, RFC 8785's string escapes, numbers in ECMAScript form.
    Raises ValueError for what has no such form (NaN, infinities, integers beyond 2**53 - 1, a
    string that is not Unicode scalar values, a key that is not a string, a non-JSON type)."""
    parts: list[str] = []
    _write(value, parts)
    text = "".join(parts)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a string holds a lone surrogate") from None
    return text


def _write(value: Any, out: list[str]) -> None:
    kind = type(value)
    if value is None:
        out.append("null")
    elif kind is bool:
        out.append("true" if value else "false")
    elif kind is int:
        if not -SAFE <= value <= SAFE:
            raise ValueError(f"integer {value} is beyond what RFC 8785 can represent exactly")
        out.append(str(value))
    elif kind is float:
        out.append(es6_number(value))
    elif kind is str:
        out.append(_string(value))
    elif kind is list or kind is tuple:
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif kind is dict:
        if not all(type(key) is str for key in value):
            raise ValueError("an object key is not a string")
        out.append("{")
        for index, key in enumerate(sorted(value, key=_utf16)):
            if index:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    else:
        raise ValueError(f"{kind.__name__} is not a JSON value")


def _utf16(key: str) -> bytes:
    """Sort key: big-endian UTF-16 bytes compare as the UTF-16 code units RFC 8785 sorts by."""
    return key.encode("utf-16-be", "surrogatepass")


def _string(text: str) -> str:
    """RFC 8785 §3.2.2.2: ``"`` and ``\\`` escaped, the five short control escapes, other control
    characters as lower-case ``\\u00xx``, everything else as itself."""
    return '"' + _TO_ESCAPE.sub(lambda match: _ESCAPES[match.group()], text) + '"'


def es6_number(value: float) -> str:
    """ECMAScript's Number::toString (ECMA-262 7.1.12.1) of a finite double, as RFC 8785 §3.2.2.3
    requires: the shortest digits that round-trip (Python's ``repr`` finds them), laid out plainly
    for a decimal exponent in (-6, 21], otherwise as ``d.ddde±n``; ``-0`` is ``0``."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{value} has no JSON form")
    if value == 0:
        return "0"
    sign, text = ("-", repr(-value)) if value < 0 else ("", repr(value))
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + int(exponent or 0)  # value = 0.digits * 10**point
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k, n = len(digits), point
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        body = "0." + "0" * -n + digits
    else:
        rest = f".{digits[1:]}" if k > 1 else ""
        body = f"{digits[0]}{rest}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return sign + body


# -- strict JSON ----------------------------------------------------------------------------


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        keys = [key for key, _ in pairs]
        raise StatementError(f"duplicate key {next(k for k in keys if keys.count(k) > 1)!r}")
    return value


def _number(token: str) -> int | float:
    """A JSON number as RFC 8785 reads one: an IEEE 754 double (an int when it is one exactly)."""
    value = int(token)
    return value if -SAFE <= value <= SAFE else float(token)


def _no_constant(name: str) -> Any:
    raise StatementError(f"{name} is not JSON")


_STRICT = json.JSONDecoder(
    object_pairs_hook=_unique, parse_int=_number, parse_constant=_no_constant
)


def strict_json(text: str) -> Any:
    """Parse JSON text, refusing a key given twice, NaN and Infinity (StatementError)."""
    try:
        return _STRICT.decode(text)
    except StatementError:
        raise
    except ValueError as error:
        raise StatementError(f"not JSON ({error})") from None


# -- the envelope and its statement ---------------------------------------------------------


def is_sealed(value: object) -> bool:
    """A sealed personal-data field: an object whose ``alg`` is AES-256-GCM, with a ``key_ref``."""
    return isinstance(value, dict) and value.get("alg") == SEALED_ALG and "key_ref" in value


def is_instant(text: str) -> bool:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ``, a real date and time."""
    if not INSTANT.fullmatch(text):
        return False
    try:
        datetime.strptime(text, INSTANT_FORMAT)
    except ValueError:
        return False
    return True


def parse_envelope(state: bytes) -> Parsed:
    """Parse a stored state strictly, or raise StatementError naming the first problem."""
    try:
        outer = strict_json(state.decode("utf-8"))
    except UnicodeDecodeError:
        raise StatementError("the stored state is not UTF-8") from None
    except StatementError as error:
        raise StatementError(f"the envelope is not well-formed JSON: {error}") from None
    if not isinstance(outer, dict):
        raise StatementError("the envelope is not a JSON object")
    if outer.keys() != ENVELOPE_KEYS:
        extra, missing = sorted(outer.keys() - ENVELOPE_KEYS), sorted(ENVELOPE_KEYS - outer.keys())
        raise StatementError(f"the envelope has extra keys {extra} or lacks keys {missing}")
    text, sealed = outer["statement"], outer["sealed"]
    if not isinstance(text, str):
        raise StatementError("the envelope's statement is not a string")
    if not isinstance(sealed, dict) or not all(type(v) is str for v in sealed.values()):
        raise StatementError("the envelope's sealed is not an object of base64 ciphertexts")
    try:
        signature = base64.b64decode(outer["signature"], validate=True)
    except (TypeError, ValueError):
        raise StatementError("the envelope's signature is not base64") from None
    try:
        signed = text.encode("utf-8")
    except UnicodeEncodeError:
        raise StatementError("the statement holds a lone surrogate") from None
    try:
        statement = strict_json(text)
    except StatementError as error:
        raise StatementError(f"the statement is not well-formed JSON: {error}") from None
    try:
        form = canonical(statement)
    except ValueError:
        form = None
    if form != text:
        raise StatementError("the statement is not byte for byte its own RFC 8785 form")
    check_statement(statement, sealed)
    return Parsed(statement, signed, signature, sealed)


def check_statement(statement: Any, sealed: dict[str, str]) -> None:
    """The statement's fields, their types and forms, its payload's fields, and that every
    ciphertext in ``sealed`` is committed to by a sealed field (StatementError if not)."""
    if not isinstance(statement, dict) or statement.get("format") != FORMAT:
        raise StatementError(f"the statement is not a {FORMAT} statement")
    if statement.keys() != FIELD_TYPES.keys():
        missing = [name for name in FIELD_TYPES if name not in statement]
        unknown = sorted(statement.keys() - FIELD_TYPES.keys())
        raise StatementError(
            f"statement has unknown fields {', '.join(unknown) or '(none)'}"
            f" or lacks fields {', '.join(missing) or '(none)'}"
        )
    wrong = [name for name, kind in FIELD_TYPES.items() if type(statement[name]) is not kind]
    if wrong:
        raise StatementError(f"statement fields of the wrong type: {', '.join(wrong)}")
    for name in ("recorded_at", "effective_at"):
        if not is_instant(statement[name]):
            raise StatementError(f"statement {name} is not of the form YYYY-MM-DDTHH:MM:SS.ffffffZ")
    payload, fields = statement["payload"], PAYLOAD_FIELDS.get(statement["type"])
    if fields is not None and payload.keys() != fields:
        unknown, missing = sorted(payload.keys() - fields), sorted(fields - payload.keys())
        raise StatementError(
            f"the payload of {statement['type']} has unknown fields {', '.join(unknown) or '(none)'}"
            f" or lacks fields {', '.join(missing) or '(none)'}"
        )
    orphans = [name for name in sealed if not is_sealed(payload.get(name))]
    if orphans:
        raise StatementError(
            f"sealed ciphertext {orphans[0]!r} is committed to by no sealed field of the statement"
        )
