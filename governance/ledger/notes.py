"""C2SP signed notes, transparency-log checkpoints and witness cosignatures (Ed25519 only).

Three formats, byte-compatible with golang.org/x/mod/sumdb/note and transparency-dev/formats:

* signed-note (c2sp.org/signed-note): newline-terminated text lines, a blank line, then signature
  lines ``— <name> <base64(key id || signature)>`` (U+2014 and a space). A key id is the first four
  bytes of SHA-256(name || "\\n" || type || public key); a verifier key is
  ``<name>+<8 hex digits of key id>+<base64(type || public key)>``. Type 0x01 is plain Ed25519.
* tlog-checkpoint (c2sp.org/tlog-checkpoint): origin, tree size and base64 root hash lines, then
  optional extension lines.
* tlog-cosignature (c2sp.org/tlog-cosignature) cosignature/v1, type 0x04: a witness signs
  ``"cosignature/v1\\ntime <t>\\n" + checkpoint body``; its signature is the 8-byte big-endian
  timestamp followed by the 64-byte Ed25519 signature.

Signatures from unknown keys are ignored; a known key whose signature fails, or a note with no
verified signature from a known note signer, is rejected. Every failure raises ``ProofError`` with
a one-line message that names keys only by name and key id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from governance.errors import ProofError

SIG_ED25519 = 0x01
SIG_COSIGNATURE_V1 = 0x04
MAX_SIGNATURES = 100
_DASH = "\u2014 "
_MAX_TIMESTAMP = 2**63 - 1
_MAX_TREE_SIZE = 2**64 - 1
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")
_KEY_ID_HEX = re.compile(r"[0-9a-fA-F]{8}")


@dataclass(frozen=True)
class Verifier:
    """A parsed verifier key: key name, 4-byte key id, signature type and raw Ed25519 key."""

    name: str
    key_id: bytes
    sig_type: int
    public_key: bytes

    @property
    def label(self) -> str:
        """``name+keyid``, how messages refer to the key."""
        return f"{self.name}+{self.key_id.hex()}"

    def __str__(self) -> str:
        return f"{self.label}+{_b64(bytes([self.sig_type]) + self.public_key)}"


@dataclass(frozen=True)
class Cosignature:
    """A verified witness cosignature: the witness name and the POSIX time it signed at."""

    name: str
    timestamp: int


@dataclass(frozen=True)
class Note:
    """An opened note: its text and the names of the known keys whose signatures verified."""

    text: str
    signatures: tuple[str, ...]
    cosignatures: tuple[Cosignature, ...] = ()


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint note body: origin, tree size, 32-byte root hash, extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise _bad_checkpoint("origin must be one non-empty line")
        if not 0 <= self.size <= _MAX_TREE_SIZE:
            raise _bad_checkpoint("tree size is out of range")
        if len(self.root) != 32:
            raise _bad_checkpoint("root hash is not 32 bytes")
        if any(not line or "\n" in line for line in self.extensions):
            raise _bad_checkpoint("extension lines must be single non-empty lines")
        _check_chars(self.body(), "malformed checkpoint")

    def body(self) -> str:
        """The note text: origin, size and base64 root lines, then extension lines."""
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)


class _Sig(NamedTuple):
    name: str
    key_id: bytes
    signature: bytes
    line: str


def key_id(name: str, public_key: Ed25519PublicKey | bytes, sig_type: int = SIG_ED25519) -> bytes:
    """The 4-byte key id: SHA-256(name || "\\n" || sig_type || 32-byte public key)[:4]."""
    raw = _raw(public_key)
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + raw).digest()[:4]


def verifier_key(name: str, public_key: Ed25519PublicKey | bytes) -> str:
    """The verifier key string of a note signer: ``name+keyid+base64(0x01 || key)``."""
    return str(_verifier(name, _raw(public_key), SIG_ED25519))


def witness_verifier_key(name: str, public_key: Ed25519PublicKey | bytes) -> str:
    """The verifier key string of a cosignature/v1 witness: ``name+keyid+base64(0x04 || key)``."""
    return str(_verifier(name, _raw(public_key), SIG_COSIGNATURE_V1))


def parse_verifier_key(text: str) -> Verifier:
    """Parse ``name+keyid+base64(type || key)`` (type 0x01 or 0x04), checking the key id."""
    name, _, rest = text.partition("+")
    hex_id, _, key64 = rest.partition("+")
    if not _valid_name(name):
        raise ProofError("malformed verifier key: invalid key name")
    if not _KEY_ID_HEX.fullmatch(hex_id):
        raise ProofError("malformed verifier key: key id is not 8 hex digits")
    raw = _b64decode(key64)
    if not raw:
        raise ProofError("malformed verifier key: key is not valid base64")
    if raw[0] not in (SIG_ED25519, SIG_COSIGNATURE_V1):
        raise ProofError(f"malformed verifier key: unsupported key type 0x{raw[0]:02x}")
    if len(raw) != 33:
        raise ProofError("malformed verifier key: Ed25519 key is not 32 bytes")
    verifier = _verifier(name, raw[1:], raw[0])
    if verifier.key_id != bytes.fromhex(hex_id):
        raise ProofError(f"verifier key {name}+{hex_id} has a key id that does not match its key")
    return verifier


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
    return f"{_DASH}{name} {_b64(kid + struct.pack('>Q', timestamp) + signature)}\n"


def open_note(
    signed: str | bytes, known_verifiers: Iterable[Verifier], witnesses: Iterable[Verifier] = ()
) -> Note:
    """Verify a signed note against known signers (type 0x01) and witnesses (type 0x04).

    Signatures from keys not listed (by name and key id) are ignored. Raises ``ProofError`` when
    the note is malformed, a known key's signature fails, or no known signer's signature verifies.
    """
    text, sigs = _split(signed)
    known = _index(known_verifiers, witnesses)
    data = text.encode()
    seen: set[tuple[str, bytes]] = set()
    names: list[str] = []
    cosignatures: list[Cosignature] = []
    for sig in sigs:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None or (sig.name, sig.key_id) in seen:
            continue
        seen.add((sig.name, sig.key_id))
        ok, timestamp = _check(verifier, data, sig.signature)
        if not ok:
            raise ProofError(f"invalid signature for key {verifier.label}")
        if timestamp is None:
            names.append(verifier.name)
        else:
            cosignatures.append(Cosignature(verifier.name, timestamp))
    if not names:
        raise ProofError("note has no verified signature from a known signer")
    return Note(text, tuple(names), tuple(cosignatures))


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note body strictly (canonical decimal size, canonical 32-byte root)."""
    if not text.endswith("\n"):
        raise _bad_checkpoint("text does not end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise _bad_checkpoint("needs origin, tree size and root hash lines")
    origin, size, root64, *extensions = lines
    if not _TREE_SIZE.fullmatch(size):
        raise _bad_checkpoint("tree size is not a decimal number without leading zeros")
    root = _b64decode(root64)
    if root is None:
        raise _bad_checkpoint("root hash is not canonical base64")
    return Checkpoint(origin, int(size), root, tuple(extensions))


def _signature_line(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    kid = _line_key_id(name, private_key, SIG_ED25519)
    return f"{_DASH}{name} {_b64(kid + private_key.sign(text.encode()))}\n"


def _line_key_id(name: str, private_key: Ed25519PrivateKey, sig_type: int) -> bytes:
    _require_name(name)
    return key_id(name, private_key.public_key(), sig_type)


def _split(signed: str | bytes) -> tuple[str, list[_Sig]]:
    if isinstance(signed, bytes):
        try:
            signed = signed.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("not valid UTF-8") from None
    _check_chars(signed, "malformed note")
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
    name, _, b64 = line[len(_DASH) :].partition(" ")
    if not _valid_name(name):
        raise _malformed("signature line has an invalid key name")
    raw = _b64decode(b64)
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


def _verifier(name: str, raw: bytes, sig_type: int) -> Verifier:
    _require_name(name)
    return Verifier(name, key_id(name, raw, sig_type), sig_type, raw)


def _require_name(name: str) -> None:
    if not _valid_name(name):
        raise ProofError("invalid key name: it must be non-empty, without spaces or '+'")


def _raw(public_key: Ed25519PublicKey | bytes) -> bytes:
    raw = public_key if isinstance(public_key, bytes) else public_key.public_bytes_raw()
    if len(raw) != 32:
        raise ProofError("an Ed25519 public key is 32 bytes")
    return raw


def _check_text(text: str) -> None:
    if not text:
        raise _malformed("text is empty")
    _check_chars(text, "malformed note")
    if not text.endswith("\n"):
        raise _malformed("text does not end in a newline")


def _check_chars(text: str, what: str) -> None:
    if not _utf8(text):
        raise ProofError(f"{what}: not valid UTF-8")
    if any(c < " " and c != "\n" for c in text):
        raise ProofError(f"{what}: contains a control character other than newline")


def _valid_name(name: str) -> bool:
    bad = any(c.isspace() or c < " " or c == "+" for c in name)
    return bool(name) and not bad and _utf8(name)


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str) -> bytes | None:
    """Strict standard base64: the text must be exactly the canonical encoding of the bytes."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if _b64(raw) == text else None


def _malformed(problem: str) -> ProofError:
    return ProofError(f"malformed note: {problem}")


def _bad_checkpoint(problem: str) -> ProofError:
    return ProofError(f"malformed checkpoint: {problem}")
