"""Events this process has already verified in full, or signed itself after checking its standing.

Each is remembered by stream and version with its position, type, the SHA-256 of its stored bytes
and the hash it chains from. Reading the very same bytes at the same place, chained the same way,
needs no second check: every check would give the same answer (a signer's standing at a position
never changes). Any change in the database (a flipped byte, an event moved or deleted, an edited
type) breaks the match and the event is checked in full again.
"""

from __future__ import annotations

from governance.integrity.envelope import state_hash
from governance.storage.records import Record

#: How many events to remember, newest kept (about 0.6 KB each, so at most about 70 MB): enough for
#: every event of a 10,000-entry deployment's entries (about ten each), which a reconstruction
#: verifies, so a second one in the same process checks no signature again.
LIMIT = 120_000


class VerifiedEvents:
    """A bounded memory of verified events (see the module docstring)."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._seen: dict[tuple[str, int], tuple[int, str, str, str]] = {}

    def remember(self, record: Record, prev: str, digest: str | None = None) -> None:
        """Remember ``record``, verified as chained from ``prev`` (``digest``: its ``state_hash``)."""
        stored = record.stored
        if len(self._seen) >= self.limit:
            del self._seen[next(iter(self._seen))]  # the oldest
        self._seen[(str(stored.originator_id), stored.originator_version)] = (
            record.position,
            stored.topic,
            state_hash(stored.state) if digest is None else digest,
            prev,
        )

    def holds(self, record: Record, digest: str, prev: str) -> bool:
        """True if ``record`` (its stored bytes hashing to ``digest``) is exactly as verified."""
        stored = record.stored
        seen = self._seen.get((str(stored.originator_id), stored.originator_version))
        return seen == (record.position, stored.topic, digest, prev)
