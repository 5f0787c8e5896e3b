"""The acting officer's signing identity.

A ``Signer`` is made only by unlocking the officer's private key, so holding one is the proof of
identity every write needs. Its ``repr`` never shows key material.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.integrity import keys


class Signer:
    """Signs statements for one officer with their unlocked Ed25519 key."""

    __slots__ = ("_key", "key_id", "officer_id", "public_key")

    def __init__(self, officer_id: str, private_key: Ed25519PrivateKey) -> None:
        self.officer_id = officer_id
        self._key = private_key
        self.public_key = keys.public_b64(private_key.public_key())
        self.key_id = keys.key_id(self.public_key)

    def sign(self, data: bytes) -> bytes:
        """Ed25519 signature of ``data``."""
        return self._key.sign(data)

    def __repr__(self) -> str:
        return f"Signer(officer_id={self.officer_id!r}, key_id={self.key_id!r})"
