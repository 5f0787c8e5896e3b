"""Stream ids in creation order: UUID version 7 (RFC 9562, section 5.7).

Python 3.11's ``uuid`` module has no version 7 (3.14 adds it). A version 7 id begins with the Unix
time in milliseconds, so ids made one after another sort one after another: each new entry's rows
land at the end of the store's indexes, on pages already being written, rather than on a random
page each (fewer pages per commit, and fewer for each checkpoint to write back). The remaining 74
bits are random, so ids stay unguessable.
"""

from __future__ import annotations

import secrets
import time
from uuid import UUID

_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62


def uuid7(unix_ms: int | None = None, random_bits: int | None = None) -> UUID:
    """A version 7 UUID for ``unix_ms`` (default: now) with 74 random bits (default: fresh)."""
    ms = time.time_ns() // 1_000_000 if unix_ms is None else unix_ms
    bits = secrets.randbits(74) if random_bits is None else random_bits
    rand_a, rand_b = bits >> 62, bits & ((1 << 62) - 1)
    return UUID(int=(ms & ((1 << 48) - 1)) << 80 | _VERSION | rand_a << 64 | _VARIANT | rand_b)
