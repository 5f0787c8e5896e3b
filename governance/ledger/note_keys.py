"""Verifier keys of note signers and witnesses: key ids, ``name+keyid+base64`` strings, parsing.

A key id is the first four bytes of SHA-256(name || "\\n" || type || public key); a verifier key is
``<name>+<8 hex digits of key id>+<base64(type || public key)>`` (c2sp.org/signed-note). Type 0x01
is a plain Ed25519 note signer, type 0x04 a cosignature/v1 witness (c2sp.org/tlog-cosignature).
Kept apart from ``governance.ledger.notes`` because keys are named and pinned on their own (from
the command line, a bundle's witness list) before any note is opened.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from governance.errors import ProofError
from governance.ledger.note_encoding import b64, b64decode, utf8

SIG_ED25519 = 0x01
SIG_COSIGNATURE_V1 = 0x04
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
        return f"{self.label}+{b64(bytes([self.sig_type]) + self.public_key)}"


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
    if not valid_name(name):
        raise ProofError("malformed verifier key: invalid key name")
    if not _KEY_ID_HEX.fullmatch(hex_id):
        raise ProofError("malformed verifier key: key id is not 8 hex digits")
    raw = b64decode(key64)
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


def _verifier(name: str, raw: bytes, sig_type: int) -> Verifier:
    require_name(name)
    return Verifier(name, key_id(name, raw, sig_type), sig_type, raw)


def require_name(name: str) -> None:
    if not valid_name(name):
        raise ProofError("invalid key name: it must be non-empty, without spaces or '+'")


def _raw(public_key: Ed25519PublicKey | bytes) -> bytes:
    raw = public_key if isinstance(public_key, bytes) else public_key.public_bytes_raw()
    if len(raw) != 32:
        raise ProofError("an Ed25519 public key is 32 bytes")
    return raw


def valid_name(name: str) -> bool:
    bad = any(c.isspace() or c < " " or c == "+" for c in name)
    return bool(name) and not bad and utf8(name)
