"""The retention service: expiry, erasure by destroying the data key, legal holds, sweep records."""

from __future__ import annotations

from uuid import UUID

from governance import clock
from governance.domain.entry import Entry
from governance.domain.permissions import Action
from governance.domain.retention import Retention, SweepRun, retention_stream
from governance.domain.vocabulary import Status
from governance.errors import RuleViolation
from governance.integrity.signing import Signer
from governance.services.entries import EntryService
from governance.services.ports import Store
from governance.services.retry import retried


class RetentionService:
    """The lifecycle of entries' personal data: expiry, legal holds, erasure, sweep records."""

    def __init__(self, store: Store, entries: EntryService) -> None:
        self.store = store
        self.entries = entries

    def get(self, entry_id: UUID) -> Retention | None:
        """The entry's retention record, if any decision has been made."""
        if not self.store.exists(retention_stream(entry_id)):
            return None
        record: Retention = self.store.load(
            retention_stream(entry_id), Retention, "retention record"
        )
        return record

    def _retention(self, signer: Signer, entry_id: UUID) -> Retention:
        self.entries.get(entry_id)  # the entry must exist (and verify)
        record = self.get(entry_id)
        if record is None:
            self.store.authenticate(signer, Action.OPEN_RETENTION)
            record = Retention(
                actor=signer.officer_id, effective_at=clock.now(), entry_id=str(entry_id)
            )
        return record

    @retried
    def place_hold(self, signer: Signer, entry_id: UUID, case_ref: str, reason: str) -> Retention:
        """Place a legal hold: the entry's personal data is kept until it is released."""
        self.store.authenticate(signer, Action.PLACE_HOLD)
        record = self._retention(signer, entry_id)
        record.place_hold(signer.officer_id, case_ref, reason, clock.now())
        self.store.record(record, signer=signer)
        return record

    @retried
    def release_hold(
        self, signer: Signer, entry_id: UUID, case_ref: str | None, reason: str
    ) -> Retention:
        """Release a legal hold."""
        self.store.authenticate(signer, Action.PLACE_HOLD)
        record = self.get(entry_id)
        if record is None:
            raise RuleViolation("hold: there is no hold on this entry")
        record.release_hold(signer.officer_id, case_ref, reason, clock.now())
        self.store.record(record, signer=signer)
        return record

    @retried
    def erase(
        self, signer: Signer, entry_id: UUID, reason: str, run_id: str | None = None
    ) -> Retention:
        """Destroy the entry's data key and record the erasure (metadata only), in one transaction."""
        self.store.authenticate(signer, Action.ERASE_SUBJECT)
        entry = self.entries.get(entry_id)
        now = clock.now()
        if entry.state_at(now).status not in (Status.REMOVED, Status.EXPIRED):
            raise RuleViolation(
                "status: the entry is still listed; remove it first (for example --reason erasure_upheld)"
            )
        # A key already missing without an erasure record is tampering: subject_key raises.
        self.entries.subject_key(entry)
        record = self._retention(signer, entry_id)
        record.erase(signer.officer_id, reason, run_id, now)
        self.store.record(record, signer=signer, erase_keys=[str(entry.subject["key_ref"])])
        self.store.scrub()
        return record

    @retried
    def expire(self, signer: Signer, entry_id: UUID, run_id: str) -> Entry:
        """Record that an entry lapsed at its expiry (scheduler)."""
        self.store.authenticate(signer, Action.EXPIRE_ENTRY)
        entry = self.entries.get(entry_id)
        entry.expire(signer.officer_id, run_id, clock.now())
        self.store.record(entry, signer=signer)
        return entry

    @retried
    def record_sweep(
        self,
        signer: Signer,
        run_id: str,
        counts: dict[str, int],
        review_overdue: list[str],
        expiring_soon: list[str],
        held: list[str],
    ) -> SweepRun:
        """Record a completed sweep run and what it found."""
        self.store.authenticate(signer, Action.RECORD_SWEEP)
        run = SweepRun(
            actor=signer.officer_id,
            effective_at=clock.now(),
            run_id=run_id,
            counts=counts,
            review_overdue=review_overdue,
            expiring_soon=expiring_soon,
            held=held,
        )
        self.store.record(run, signer=signer)
        return run
