"""C2SP signed notes and witness cosignatures (Ed25519 only): signing them and opening them.

Byte-compatible with golang.org/x/mod/sumdb/note and transparency-dev/formats:

* signed-note (c2sp.org/signed-note): newline-terminated text lines, a blank line, then signature
  lines ``— <name> <base64(key id || signature)>`` (U+2014 and a space). Keys and key ids are
  ``governance.ledger.note_keys``; the text a log signs is a checkpoint (``checkpoints``).
* tlog-cosignature (c2sp.org/tlog-cosignature) cosignature/v1, type 0x04: a witness signs
  ``"cosignature/v1\\ntime <t>\\n" + checkpoint body``; its signature is the 8-byte big-endian
  timestamp followed by the 64-byte Ed25519 signature.

Signatures from unknown keys are ignored; a known key whose signature fails (on any of its lines: a
second line by a key that also signed correctly is checked too), or a note with no verified
signature from a known note signer, is rejected. Every failure raises ``ProofError`` with
a one-line message that names keys only by name and key id.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from governance.errors import ProofError
from governance.ledger.checkpoints import parse_checkpoint
from governance.ledger.note_encoding import b64, b64decode, check_chars
from governance.ledger.note_keys import (
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    Verifier,
    key_id,
    require_name,
    valid_name,
)

MAX_SIGNATURES = 100
_DASH = "\u2014 "
_MAX_TIMESTAMP = 2**63 - 1


@dataclass(frozen=True)
class Cosignature:
    """A verified witness cosignature: the witness name, the POSIX time it signed at, and the key
    that verified it (a cosignature is matched by key, never by name)."""

    name: str
    timestamp: int
    key: Verifier | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Note:
    """An opened note: its text and the names of the known keys whose signatures verified."""

    text: str
    signatures: tuple[str, ...]
    cosignatures: tuple[Cosignature, ...] = ()


class _Sig(NamedTuple):
    name: str
    key_id: bytes
    signature: bytes
    line: str


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Sign ``text`` (non-empty, newline-terminated) as ``name``: text, blank line, signature."""
    _check_text(text)
    return text + "\n" + _signature_line(text, name, private_key)


def add_signature(signed_note: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Append a signature by ``name`` to a signed note, replacing one by the same key."""
    text, sigs = _split(signed_note)
    kid = _line_key_id(name, private_key, SIG_ED25519)
    kept = "".join(s.line + "\n" for s in sigs if (s.name, s.key_id) != (name, kid))
    return text + "\n" + kept + _signature_line(text, name, private_key)


def cosign(checkpoint_body: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """A witness's cosignature/v1 signature line over a checkpoint body at POSIX ``timestamp``.

    Append the line to the signed checkpoint (whose signature block already ends in a newline).
    """
    parse_checkpoint(checkpoint_body)
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise ProofError("cosignature timestamp is out of range")
    kid = _line_key_id(name, private_key, SIG_COSIGNATURE_V1)
    signature = private_key.sign(_cosigned_message(timestamp, checkpoint_body.encode()))
    return f"{_DASH}{name} {b64(kid + struct.pack('>Q', timestamp) + signature)}\n"


def open_note(
    signed: str | bytes, known_verifiers: Iterable[Verifier], witnesses: Iterable[Verifier] = ()
) -> Note:
    """Verify a signed note against known signers (type 0x01) and witnesses (type 0x04).

    Signatures from keys not listed (by name and key id) are ignored. Raises ``ProofError`` when
    the note is malformed, a known key's signature fails on any of its lines (every line by a known
    key is checked, not only the first), or no known signer's signature verifies.
    """
    text, sigs = _split(signed)
    known = _index(known_verifiers, witnesses)
    data = text.encode()
    seen: set[tuple[str, bytes]] = set()
    names: list[str] = []
    cosignatures: list[Cosignature] = []
    for sig in sigs:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        ok, timestamp = _check(verifier, data, sig.signature)
        if not ok:
            raise ProofError(f"invalid signature for key {verifier.label}")
        if (sig.name, sig.key_id) in seen:
            continue  # a repeated, valid signature by one key counts once
        seen.add((sig.name, sig.key_id))
        if timestamp is None:
            names.append(verifier.name)
        else:
            cosignatures.append(Cosignature(verifier.name, timestamp, verifier))
    if not names:
        raise ProofError("note has no verified signature from a known signer")
    return Note(text, tuple(names), tuple(cosignatures))


def _signature_line(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    kid = _line_key_id(name, private_key, SIG_ED25519)
    return f"{_DASH}{name} {b64(kid + private_key.sign(text.encode()))}\n"


def _line_key_id(name: str, private_key: Ed25519PrivateKey, sig_type: int) -> bytes:
    require_name(name)
    return key_id(name, private_key.public_key(), sig_type)


def _split(signed: str | bytes) -> tuple[str, list[_Sig]]:
    if isinstance(signed, bytes):
        try:
            signed = signed.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("not valid UTF-8") from None
    check_chars(signed, "malformed note")
    cut = signed.rfind("\n\n")
    if cut < 0:
        raise _malformed("no blank line before the signatures")
    text, block = signed[: cut + 1], signed[cut + 2 :]
    if not block.endswith("\n"):
        raise _malformed("signature block is empty or does not end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise _malformed(f"more than {MAX_SIGNATURES} signatures")
    return text, [_parse_line(line) for line in lines]


def _parse_line(line: str) -> _Sig:
    if not line.startswith(_DASH):
        raise _malformed("signature line does not start with an em dash (U+2014) and a space")
    name, _, encoded = line[len(_DASH) :].partition(" ")
    if not valid_name(name):
        raise _malformed("signature line has an invalid key name")
    raw = b64decode(encoded)
    if raw is None or len(raw) < 5:
        raise _malformed(f"signature by {name} is not valid base64 of a key id and signature")
    return _Sig(name, raw[:4], raw[4:], line)


def _index(
    signers: Iterable[Verifier], witnesses: Iterable[Verifier]
) -> dict[tuple[str, bytes], Verifier]:
    known: dict[tuple[str, bytes], Verifier] = {}
    for verifiers, sig_type, role in (
        (signers, SIG_ED25519, "note signer"),
        (witnesses, SIG_COSIGNATURE_V1, "witness"),
    ):
        for verifier in verifiers:
            if verifier.sig_type != sig_type:
                raise ProofError(f"key {verifier.label} is not a {role} key")
            if known.setdefault((verifier.name, verifier.key_id), verifier) != verifier:
                raise ProofError(f"ambiguous key {verifier.label}")
    return known


def _check(verifier: Verifier, data: bytes, signature: bytes) -> tuple[bool, int | None]:
    timestamp: int | None = None
    if verifier.sig_type == SIG_COSIGNATURE_V1:
        if len(signature) != 8 + 64:
            return False, None
        (timestamp,) = struct.unpack(">Q", signature[:8])
        if timestamp > _MAX_TIMESTAMP:
            return False, None
        data, signature = _cosigned_message(timestamp, data), signature[8:]
    try:
        Ed25519PublicKey.from_public_bytes(verifier.public_key).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False, None
    return True, timestamp


def _cosigned_message(timestamp: int, body: bytes) -> bytes:
    return b"cosignature/v1\ntime %d\n" % timestamp + body


def _check_text(text: str) -> None:
    if not text:
        raise _malformed("text is empty")
    check_chars(text, "malformed note")
    if not text.endswith("\n"):
        raise _malformed("text does not end in a newline")


def _malformed(problem: str) -> ProofError:
    return ProofError(f"malformed note: {problem}")
