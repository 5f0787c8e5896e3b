"""Sealing personal data so it can later be erased without breaking any signature.

Each subject gets a random 256-bit data key and a 256-bit salt. The subject block is encrypted with
AES-256-GCM under the data key (the stream id and key reference are the associated data), and
committed to with HMAC-SHA256 keyed by the salt, so that a revealed plaintext is provably the one
the officer signed and a guessed name cannot be confirmed once the salt is gone. The data key and
salt are wrapped by the store's master key and kept in a separate key table; erasure deletes that
row. The event keeps only ciphertext, its hash and the commitment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from governance import canonical
from governance.errors import IntegrityFailure, InvalidInput
from governance.integrity.envelope import SEALED_ALG

MASTER_KEY_FILE = "master.key"


@dataclass(frozen=True)
class MasterKey:
    """The store's key-wrapping key (32 bytes). Its repr never shows the key."""

    material: bytes

    def __repr__(self) -> str:
        return "MasterKey(<hidden>)"

    @classmethod
    def create(cls, path: Path) -> MasterKey:
        """Generate a master key into ``path`` (mode 0600, never overwritten)."""
        material = secrets.token_bytes(32)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.b64encode(material) + b"\n")
        return cls(material)

    @classmethod
    def load(cls, path: Path) -> MasterKey:
        """Read the master key file."""
        try:
            material = base64.b64decode(path.read_bytes().strip(), validate=True)
        except (OSError, ValueError):
            raise InvalidInput(f"master key: cannot read a master key from {path}") from None
        if len(material) != 32:
            raise InvalidInput(f"master key: {path} does not hold a 32-byte key")
        return cls(material)


@dataclass(frozen=True)
class SealedSubject:
    """The sealed field for the event and the wrapped key row for the key table."""

    field: dict[str, Any]
    key_ref: str
    wrapped_key: str


def seal(subject: dict[str, Any], stream_id: str, master: MasterKey) -> SealedSubject:
    """Encrypt and commit to ``subject`` for the entry ``stream_id``."""
    data_key, salt = AESGCM.generate_key(256), secrets.token_bytes(32)
    key_ref = secrets.token_hex(16)
    plaintext = canonical.dumps(subject)
    nonce = secrets.token_bytes(12)
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, _aad(stream_id, key_ref))
    field = {
        "alg": SEALED_ALG,
        "key_ref": key_ref,
        "nonce": base64.b64encode(nonce).decode("ascii"),
        "ciphertext": base64.b64encode(ciphertext).decode("ascii"),
        "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
        "commitment": hmac.new(salt, plaintext, hashlib.sha256).hexdigest(),
    }
    return SealedSubject(field, key_ref, _wrap(data_key + salt, key_ref, master))


def unseal(
    field: dict[str, Any], stream_id: str, wrapped_key: str, master: MasterKey
) -> dict[str, Any]:
    """Decrypt a sealed field and check it against its signed commitment."""
    key_ref = str(field["key_ref"])
    unwrapped = _unwrap(wrapped_key, key_ref, master)
    data_key, salt = unwrapped[:32], unwrapped[32:]
    try:
        plaintext = AESGCM(data_key).decrypt(
            base64.b64decode(field["nonce"]),
            base64.b64decode(field["ciphertext"]),
            _aad(stream_id, key_ref),
        )
    except (InvalidTag, ValueError):
        raise IntegrityFailure(f"sealed personal data of {stream_id} does not decrypt") from None
    expected = hmac.new(salt, plaintext, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, str(field["commitment"])):
        raise IntegrityFailure(f"personal data of {stream_id} does not match its signed commitment")
    subject: dict[str, Any] = json.loads(plaintext)
    return subject


def _aad(stream_id: str, key_ref: str) -> bytes:
    return f"watchlist-subject/1|{stream_id}|{key_ref}".encode()


def _wrap(material: bytes, key_ref: str, master: MasterKey) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(master.material).encrypt(nonce, material, f"data-key|{key_ref}".encode())
    return base64.b64encode(nonce + sealed).decode("ascii")


def _unwrap(wrapped: str, key_ref: str, master: MasterKey) -> bytes:
    raw = base64.b64decode(wrapped)
    try:
        return AESGCM(master.material).decrypt(raw[:12], raw[12:], f"data-key|{key_ref}".encode())
    except InvalidTag:
        raise IntegrityFailure(
            f"data key {key_ref} does not unwrap with this store's master key"
        ) from None
