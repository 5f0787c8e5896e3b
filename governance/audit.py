"""Full verification of a store: every event, in store order.

Checks each event's envelope, stream placement, version sequence, hash chain, sealed hashes and
signer standing at its position (``governance.verification``). Reports every failure with its
stream, version and position; it never stops at the first or skips one silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from governance.envelope import GENESIS_PREV, EnvelopeError, state_hash
from governance.errors import Failure, IntegrityFailure
from governance.recorders import Record
from governance.store import StoreCore

PAGE = 1000


@dataclass
class AuditReport:
    """Outcome of ``watchlist audit verify``."""

    events: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def verify_store(app: StoreCore) -> AuditReport:
    """Verify every event in the store."""
    report = AuditReport()
    heads: dict[UUID, tuple[int, str]] = {}
    start = 1
    while True:
        page = app.recorder.select_notifications(start, PAGE)
        for note in page:
            report.events += 1
            stream = UUID(str(note.originator_id))
            record = Record(note.id, note)
            version, prev = heads.get(stream, (0, GENESIS_PREV))
            problems = []
            if note.originator_version != version + 1:
                problems.append(
                    f"version {version + 1} is missing from the stream (found "
                    f"{note.originator_version} next): an event was deleted or moved"
                )
            try:
                envelope = app.codec.decode(note.state)
            except EnvelopeError as error:
                problems.append(str(error))
            else:
                try:
                    problems += app.verifier.check(record, envelope, prev)
                except IntegrityFailure as error:
                    problems += [f.problem for f in error.failures] or [error.message]
            report.failures += [
                Failure(str(stream), note.originator_version, note.id, p) for p in problems
            ]
            heads[stream] = (note.originator_version, state_hash(note.state))
        if len(page) < PAGE:
            return report
        start = page[-1].id + 1
