"""What the per-read verifier hands back: a checked event, a deferred signature check, the founding.

Kept apart from ``governance.integrity.verifier`` (which decides) because callers that only carry
the results, such as the entry service, the store audit and the projection runner, need these
small value types and not the verifier itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from governance.errors import Failure
from governance.integrity import keys
from governance.integrity.envelope import Envelope
from governance.storage.recorders import Record

BAD_SIGNATURE = "signature does not verify"


@dataclass(frozen=True)
class SignatureJob:
    """One deferred Ed25519 verification."""

    public_key: str
    signature: bytes
    data: bytes

    def holds(self) -> bool:
        """True when the signature verifies."""
        return keys.verify(self.public_key, self.signature, self.data)


@dataclass(frozen=True)
class Checked:
    """A stored event after verification."""

    record: Record
    envelope: Envelope | None
    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.problems

    def failures(self) -> list[Failure]:
        stored = self.record.stored
        return [
            Failure(str(stored.originator_id), stored.originator_version, self.record.position, p)
            for p in self.problems
        ]


@dataclass(frozen=True)
class Founding:
    """The verified founding record of the store."""

    origin: str
    admin_officer_id: str
    admin_public_key: str
    log_public_key: str
    position: int


def failing_jobs(chunk: Sequence[SignatureJob]) -> list[int]:
    """Indexes of the jobs in ``chunk`` whose signatures do not verify (runs in a worker)."""
    return [i for i, job in enumerate(chunk) if not job.holds()]
