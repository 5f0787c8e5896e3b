"""The text and base64 rules shared by signed notes, checkpoints and verifier keys.

C2SP formats are UTF-8 text with no control characters but newline, and carry binary values in
strict (canonical) standard base64; ``notes``, ``checkpoints`` and ``note_keys`` all check the same
way, so the rules live here once.
"""

from __future__ import annotations

import base64
import binascii

from governance.errors import ProofError


def check_chars(text: str, what: str) -> None:
    if not utf8(text):
        raise ProofError(f"{what}: not valid UTF-8")
    if any(c < " " and c != "\n" for c in text):
        raise ProofError(f"{what}: contains a control character other than newline")


def utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes | None:
    """Strict standard base64: the text must be exactly the canonical encoding of the bytes."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if b64(raw) == text else None
