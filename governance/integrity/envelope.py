"""The stored form of an event: a signed statement, its signature and any sealed ciphertext.

Stored state bytes are compact JSON of ``{"sealed": {...}, "signature": B64, "statement": TEXT}``.
``statement`` is itself RFC 8785 canonical JSON, kept as a string so the exact signed bytes are
stored and verified as stored, never re-serialised. The statement binds the store's
origin, the stream id, version, event type, both timestamps, the actor and key, the SHA-256 of the
previous stored event in the stream, and the payload. Sealed personal data appears in the statement
only as its ciphertext hash and commitment; the ciphertext sits beside it under ``sealed``.
See ``docs/event-format.md``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder

from governance import canonical
from governance.domain.payload_fields import PAYLOAD_FIELDS
from governance.times import format_instant, parse_formatted

FORMAT = "watchlist-event/1"
GENESIS_PREV = "0" * 64
#: Header fields held in the statement rather than the payload.
HEADER_FIELDS = ("originator_id", "originator_version", "timestamp", "actor", "effective_at")
SEALED_ALG = "AES-256-GCM"
#: The statement fields every envelope must carry.
REQUIRED_ORDER = (
    "origin",
    "stream",
    "version",
    "type",
    "recorded_at",
    "effective_at",
    "actor",
    "key_id",
    "prev",
    "payload",
)
REQUIRED = frozenset(REQUIRED_ORDER)
#: Every field of a statement, each with the one JSON type it may have (nothing else is allowed).
FIELD_TYPES: dict[str, type] = {
    "format": str,
    **{name: str for name in REQUIRED_ORDER},
    "version": int,
    "payload": dict,
}
#: The keys of the stored envelope: exactly these.
ENVELOPE_KEYS = frozenset({"sealed", "signature", "statement"})
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_JSON = json.JSONDecoder()


class EnvelopeError(ValueError):
    """The stored bytes are not a well-formed envelope."""


class Signs(Protocol):
    """Something that signs statements for one officer."""

    @property
    def officer_id(self) -> str: ...

    @property
    def key_id(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...


def state_hash(state: bytes) -> str:
    """Hex SHA-256 of a stored state: the link in the per-stream hash chain."""
    return hashlib.sha256(state).hexdigest()


def is_sealed(value: object) -> bool:
    """True for a sealed personal-data field (see ``governance.integrity.sealing``)."""
    return isinstance(value, Mapping) and value.get("alg") == SEALED_ALG and "key_ref" in value


@dataclass(frozen=True)
class Envelope:
    """A parsed stored event: exact statement bytes, decoded statement, signature, ciphertexts."""

    statement_bytes: bytes
    statement: dict[str, Any]
    signature: bytes
    sealed: dict[str, str] = field(default_factory=dict)
    #: The statement is the plain JSON of ``statement_bytes`` (decoded with ``typed=False``).
    raw: bool = False

    @property
    def stream(self) -> str:
        return str(self.statement["stream"])

    @property
    def version(self) -> int:
        return int(self.statement["version"])

    @property
    def type(self) -> str:
        return str(self.statement["type"])

    @property
    def actor(self) -> str:
        return str(self.statement["actor"])

    @property
    def key_id(self) -> str:
        return str(self.statement["key_id"])

    @property
    def prev(self) -> str:
        return str(self.statement["prev"])

    @property
    def origin(self) -> str:
        return str(self.statement["origin"])

    @property
    def recorded_at(self) -> datetime:
        return parse_formatted(self.statement["recorded_at"])

    @property
    def effective_at(self) -> datetime:
        return parse_formatted(self.statement["effective_at"])

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = self.statement["payload"]
        return payload


class EnvelopeCodec:
    """Encodes domain events into signed envelopes and decodes them back."""

    def __init__(self, transcoder: JSONTranscoder) -> None:
        self.transcoder = transcoder

    def encode(self, event: Any, topic: str, origin: str, prev: str, signer: Signs) -> bytes:
        """Sign ``event`` as ``signer`` and return the bytes to store."""
        attributes = dict(vars(event))
        if attributes["actor"] != signer.officer_id:
            raise ValueError("an event must be signed by the officer it names as actor")
        payload = {k: v for k, v in attributes.items() if k not in HEADER_FIELDS}
        sealed: dict[str, str] = {}
        for name, value in list(payload.items()):
            if is_sealed(value):
                open_part = dict(value)
                sealed[name] = open_part.pop("ciphertext")
                payload[name] = open_part
        statement = {
            "format": FORMAT,
            "origin": origin,
            "stream": str(attributes["originator_id"]),
            "version": attributes["originator_version"],
            "type": topic,
            "recorded_at": format_instant(attributes["timestamp"]),
            "effective_at": format_instant(attributes["effective_at"]),
            "actor": signer.officer_id,
            "key_id": signer.key_id,
            "prev": prev,
            "payload": self.tagged(payload),
        }
        statement_bytes = canonical.dumps(statement)
        signature = signer.sign(statement_bytes)
        outer = {
            "sealed": sealed,
            "signature": base64.b64encode(signature).decode("ascii"),
            "statement": statement_bytes.decode("utf-8"),
        }
        # The outer object is not signed, so it needs no canonical form; only the statement does.
        return json.dumps(outer, separators=(",", ":"), sort_keys=True).encode("utf-8")

    def tagged(self, value: Any) -> Any:
        """``value`` as the library's transcoder writes it, as JSON values (``{"_type_": ...}``
        for a date-time, an id and the like), without its encode-then-parse round trip."""
        try:
            return _tagged(value, self.transcoder.types)
        except _Unusual:
            return json.loads(self.transcoder.encode(value))

    def decode(self, state: bytes, *, typed: bool = True) -> Envelope:
        """Parse stored bytes, or raise ``EnvelopeError``.

        ``typed=False`` leaves payload date-times and ids as their tagged JSON (faster; enough for
        verification, which never reads them).
        """
        try:
            outer = _OUTER.decode(state.decode("utf-8"))
        except ValueError as error:  # UnicodeDecodeError and _Duplicate are ValueErrors too
            name = error if isinstance(error, _Duplicate) else error.__class__.__name__
            raise EnvelopeError(f"stored state is not a signed envelope ({name})") from None
        if not isinstance(outer, dict):
            raise EnvelopeError("stored state is not a signed envelope (not a JSON object)")
        if outer.keys() != ENVELOPE_KEYS:
            extra = sorted(outer.keys() - ENVELOPE_KEYS)
            missing = sorted(ENVELOPE_KEYS - outer.keys())
            raise EnvelopeError(f"the envelope has extra keys {extra} or lacks keys {missing}")
        try:
            text = outer["statement"]
            statement_bytes = text.encode("utf-8")
            statement = self.transcoder.decode(statement_bytes) if typed else _json_object(text)
            signature = base64.b64decode(outer["signature"], validate=True)
            sealed = outer["sealed"]
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as error:
            raise EnvelopeError(
                f"stored state is not a signed envelope ({error.__class__.__name__})"
            ) from None
        if not isinstance(sealed, dict) or not all(type(v) is str for v in sealed.values()):
            raise EnvelopeError("the envelope's sealed is not an object of base64 ciphertexts")
        if not isinstance(statement, dict) or statement.get("format") != FORMAT:
            raise EnvelopeError("stored state is not a watchlist-event/1 statement")
        if not statement.keys() >= REQUIRED:
            missing = [k for k in REQUIRED_ORDER if k not in statement]
            raise EnvelopeError(f"statement lacks {', '.join(missing)}")
        if len(statement) != len(FIELD_TYPES):
            unknown = sorted(statement.keys() - FIELD_TYPES.keys())
            raise EnvelopeError(f"statement has unknown fields {', '.join(unknown)}")
        wrong = [n for n, kind in FIELD_TYPES.items() if type(statement[n]) is not kind]
        if wrong:
            raise EnvelopeError(f"statement fields of the wrong type: {', '.join(wrong)}")
        if not _instant(statement["effective_at"]):
            raise EnvelopeError(
                "statement effective_at is not of the form YYYY-MM-DDTHH:MM:SS.ffffffZ"
            )
        fields = PAYLOAD_FIELDS.get(statement["type"])  # an unknown type is refused by the verifier
        if fields is not None and statement["payload"].keys() != fields:
            unknown = sorted(statement["payload"].keys() - fields)
            missing = sorted(fields - statement["payload"].keys())
            raise EnvelopeError(
                f"the payload of {statement['type']} has unknown fields "
                f"{', '.join(unknown) or '(none)'} or lacks fields {', '.join(missing) or '(none)'}"
            )
        return Envelope(statement_bytes, statement, signature, sealed, raw=not typed)

    def event_state(self, envelope: Envelope) -> dict[str, Any]:
        """The domain event's attributes, with sealed ciphertext merged back into its field."""
        state = dict(envelope.payload)
        for name, ciphertext in envelope.sealed.items():
            if name in state and is_sealed(state[name]):
                state[name] = {**state[name], "ciphertext": ciphertext}
        state.update(
            originator_id=UUID(envelope.stream),
            originator_version=envelope.version,
            timestamp=envelope.recorded_at,
            actor=envelope.actor,
            effective_at=envelope.effective_at,
        )
        return state


class _Unusual(Exception):
    """A value ``_tagged`` leaves to the transcoder itself."""


def _tagged(value: Any, types: Mapping[type, Any]) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if kind is dict:
        if not all(type(key) is str for key in value):
            raise _Unusual
        return {key: _tagged(item, types) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [_tagged(item, types) for item in value]
    if isinstance(value, (str, int, float, dict, list, tuple)):
        raise _Unusual  # a subclass: the transcoder's encoder writes it natively, never tagged
    transcoding = types.get(kind)
    if transcoding is None:
        raise _Unusual
    return {"_type_": transcoding.name, "_data_": _tagged(transcoding.encode(value), types)}


def _json_object(text: str) -> Any:
    """``json.loads(text)``, faster for the compact JSON we store (no surrounding whitespace)."""
    try:
        value, end = _JSON.raw_decode(text)
        if end == len(text):
            return value
    except ValueError:
        pass
    return _JSON.decode(text)  # whitespace around the value, or the error json.loads would raise


def _instant(text: str) -> bool:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ``, a real UTC instant."""
    if not INSTANT.fullmatch(text):
        return False
    try:
        parse_formatted(text)
    except ValueError:
        return False
    return True


class _Duplicate(ValueError):
    """A JSON object with a key given twice."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        keys = [key for key, _ in pairs]
        raise _Duplicate(f"duplicate key {next(k for k in keys if keys.count(k) > 1)!r}")
    return value


#: The envelope's own parser: refuses a key given twice (the statement is a string inside it).
_OUTER = json.JSONDecoder(object_pairs_hook=_unique)


def statement_problems(envelope: Envelope) -> list[str]:
    """The statement must be byte for byte its own RFC 8785 form (so no duplicate key, no
    whitespace, keys in order, shortest escapes and numbers); checked with the signature."""
    try:
        value = (
            envelope.statement if envelope.raw else _json_object(envelope.statement_bytes.decode())
        )
        if canonical.dumps(value) == envelope.statement_bytes:
            return []
    except (ValueError, TypeError, UnicodeError):
        pass
    return ["the statement is not byte for byte its own RFC 8785 form (or has a duplicate key)"]


def sealed_hash_problems(envelope: Envelope) -> list[str]:
    """Check every sealed ciphertext against the hash the statement signs, and that every
    ciphertext in the envelope is one the statement commits to."""
    problems = [
        f"sealed ciphertext '{name}' is committed to by no sealed field of the statement"
        for name in envelope.sealed
        if not is_sealed(envelope.payload.get(name))
    ]
    for name, value in envelope.payload.items():
        # A decoded payload holds only JSON types: anything but an object is not sealed (and
        # skipping it here spares the Mapping check on every plain field of every audited event).
        if not isinstance(value, dict) or not is_sealed(value):
            continue
        ciphertext = envelope.sealed.get(name)
        if ciphertext is None:
            problems.append(f"sealed field '{name}' has no ciphertext")
            continue
        try:
            digest = hashlib.sha256(base64.b64decode(ciphertext, validate=True)).hexdigest()
        except (ValueError, binascii.Error):
            digest = ""
        if digest != value.get("ciphertext_sha256"):
            problems.append(f"ciphertext of sealed field '{name}' does not match its signed hash")
    return problems
