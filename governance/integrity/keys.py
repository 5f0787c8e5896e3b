"""Officer key pairs: Ed25519, stored as passphrase-encrypted PKCS#8 files with mode 0600.

Public keys travel as base64 of the 32 raw bytes; a key id is the first 16 hex digits of the
SHA-256 of those bytes. Passphrases are taken as arguments here and come from a prompt or the
environment in the CLI; they are never logged or echoed, and error messages never include them.

``cryptography``'s serialization package (PEM, PKCS#8, and with them every key type's module) is
imported by the functions that read or write key files, not here: checking a signature needs none
of it, and a command that only reads the record starts faster without it.
"""

from __future__ import annotations

import base64
import hashlib
import os
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from governance.errors import InvalidInput, KeyUnlockFailed

PRIVATE_KEY_MODE = 0o600


def generate() -> Ed25519PrivateKey:
    """A fresh Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def public_raw(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415 - see the module doc

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_b64(key: Ed25519PublicKey) -> str:
    """Base64 of the raw public key, the form stored in events."""
    return base64.b64encode(public_raw(key)).decode("ascii")


def public_pem(key: Ed25519PublicKey) -> bytes:
    """PEM (SubjectPublicKeyInfo) form of a public key, for handing to an administrator."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415 - see the module doc

    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(public_key_b64: str) -> str:
    """Short, stable identifier of a public key: 16 hex digits of SHA-256 of the raw bytes."""
    return hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()[:16]


@lru_cache(maxsize=4096)
def load_public_b64(text: str) -> Ed25519PublicKey:
    """Parse a stored base64 public key (cached: the same few keys sign most events)."""
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text))


def verify(public_key_b64: str, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``data`` by the key."""
    try:
        load_public_b64(public_key_b64).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def write_private_key(path: Path, key: Ed25519PrivateKey, passphrase: str) -> None:
    """Write ``key`` as encrypted PKCS#8 PEM, creating the file with mode 0600 (never wider)."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415 - see the module doc

    if not passphrase:
        raise InvalidInput("passphrase: an empty passphrase is not allowed for a private key")
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
    )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_KEY_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def read_private_key(path: Path, passphrase: str) -> Ed25519PrivateKey:
    """Unlock an encrypted private key file, or raise ``KeyUnlockFailed`` without details."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415 - see the module doc

    try:
        data = path.read_bytes()
    except OSError:
        raise KeyUnlockFailed(f"key: cannot read the key file {path}") from None
    try:
        key = serialization.load_pem_private_key(data, password=passphrase.encode("utf-8"))
    except (ValueError, TypeError):
        raise KeyUnlockFailed(
            f"key: could not unlock {path.name}: wrong passphrase or not an encrypted Ed25519 key"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyUnlockFailed(f"key: {path.name} is not an Ed25519 key")
    return key


def read_public_key_file(path: Path) -> Ed25519PublicKey:
    """Read a PEM (SubjectPublicKeyInfo) Ed25519 public key supplied at enrolment."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415 - see the module doc

    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError:
        raise InvalidInput(f"public-key: cannot read {path}") from None
    except ValueError:
        raise InvalidInput(f"public-key: {path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput(f"public-key: {path} is not an Ed25519 public key")
    return key
