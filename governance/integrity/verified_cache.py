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

#: How many events to remember, newest kept (about 0.8 KB each with a note, so at most about
#: 100 MB): enough for every event of a 10,000-entry deployment's entries (about ten each), which a
#: reconstruction verifies, so a second one in the same process checks no signature again.
LIMIT = 120_000

#: What a reader noted from an event's verified statement (for a reconstruction: who recorded it,
#: and when it took effect and was recorded, UTC microseconds). Taken from the very bytes that
#: verified, so it holds exactly as long as the event does.
Note = tuple[str, int, int]


class VerifiedEvents:
    """A bounded memory of verified events (see the module docstring)."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._seen: dict[tuple[str, int], tuple[int, str, str, str]] = {}
        self._notes: dict[tuple[str, int], Note] = {}

    def remember(
        self, record: Record, prev: str, digest: str | None = None, note: Note | None = None
    ) -> None:
        """Remember ``record``, verified as chained from ``prev`` (``digest``: its ``state_hash``),
        with what the caller noted from its statement, if anything."""
        stored = record.stored
        key = (str(stored.originator_id), stored.originator_version)
        if key not in self._seen and len(self._seen) >= self.limit:
            oldest = next(iter(self._seen))
            del self._seen[oldest]
            self._notes.pop(oldest, None)
        self._seen[key] = (
            record.position,
            stored.topic,
            state_hash(stored.state) if digest is None else digest,
            prev,
        )
        if note is not None:
            self._notes[key] = note
        else:
            self._notes.pop(key, None)

    def holds(self, record: Record, digest: str, prev: str) -> bool:
        """True if ``record`` (its stored bytes hashing to ``digest``) is exactly as verified."""
        stored = record.stored
        seen = self._seen.get((str(stored.originator_id), stored.originator_version))
        return seen == (record.position, stored.topic, digest, prev)

    def noted(self, stream: str, record: Record, digest: str, prev: str) -> Note | None:
        """The note remembered with ``record`` of ``stream`` (its id as text), if the record is
        exactly as verified (as ``holds`` says), else None."""
        stored = record.stored
        key = (stream, stored.originator_version)
        if self._seen.get(key) != (record.position, stored.topic, digest, prev):
            return None
        return self._notes.get(key)
