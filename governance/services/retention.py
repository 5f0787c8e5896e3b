"""The retention service: expiry, erasure by destroying the data key, legal holds, sweep records."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from uuid import UUID

from governance import clock
from governance.domain.entry import Entry
from governance.domain.permissions import Action
from governance.domain.retention import Retention, SweepRun, retention_stream
from governance.domain.vocabulary import Status
from governance.errors import Failure, RuleViolation
from governance.integrity.signing import Signer
from governance.services.entries import EntryService
from governance.services.ports import Store
from governance.services.retry import retried

PROPOSED = "watchlist:Entry.Proposed"
ERASED = "watchlist:Retention.Erased"
SWEPT = "watchlist:SweepRun.Completed"


@dataclass
class _Records:
    """What the expiry, erasure and sweep records say, read in one pass."""

    proposed: list[tuple[int, UUID, int, str]] = field(default_factory=list)
    erased: set[str] = field(default_factory=set)  # retention streams with an Erased event
    runs: set[str] = field(default_factory=set)  # recorded sweep run ids
    citing: list[tuple[int, str, int, str, str]] = field(default_factory=list)


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

    def unaccounted(self) -> list[Failure]:
        """What the events cannot account for, for the audit: an entry's data key missing with no
        ``Erased`` record (deleted behind the store's back), and an erasure citing a sweep run
        that has no run record (a sweep killed mid-run: the next sweep records it)."""
        found = self._scan_records()
        kept = self.store.store_recorder.subject_key_refs()
        failures = [
            Failure(
                str(entry_id),
                version,
                position,
                "the entry's data key is missing but no erasure was recorded: "
                "it was deleted behind the store's back",
            )
            for position, entry_id, version, key_ref in found.proposed
            if key_ref not in kept and str(retention_stream(entry_id)) not in found.erased
        ]
        failures += [
            Failure(
                stream,
                version,
                position,
                f"cites sweep run {run_id}, which has no run record: the sweep was interrupted "
                "and no later sweep has recorded it yet",
            )
            for position, stream, version, kind, run_id in found.citing
            if run_id not in found.runs
        ]
        return failures

    def interrupted_runs(self) -> dict[str, dict[str, int]]:
        """Sweep runs cited by erasures but never recorded, with the erasures each made."""
        found = self._scan_records()
        runs: dict[str, dict[str, int]] = {}
        for _position, _stream, _version, _kind, run_id in found.citing:
            if run_id not in found.runs:
                counts = runs.setdefault(run_id, {"erased": 0, "interrupted": 1})
                counts["erased"] += 1
        return runs

    def _scan_records(self) -> _Records:
        found = _Records()
        for note in self.store.notifications([PROPOSED, ERASED, SWEPT]):
            # An index over the stored events (each is verified where it stands in the audit), so
            # the payload is read without decoding and checking the whole envelope again.
            try:
                payload = json.loads(json.loads(note.state)["statement"])["payload"]
            except (ValueError, KeyError, TypeError):
                continue  # the audit reports an event that does not decode where it stands
            if not isinstance(payload, dict):
                continue
            stream = str(UUID(str(note.originator_id)))
            if note.topic == PROPOSED:
                subject = payload.get("subject")
                key_ref = subject.get("key_ref") if isinstance(subject, dict) else None
                if isinstance(key_ref, str):
                    found.proposed.append((note.id, UUID(stream), note.originator_version, key_ref))
            elif note.topic == SWEPT:
                found.runs.add(str(payload.get("run_id")))
            elif note.topic == ERASED:
                found.erased.add(stream)
                run_id = payload.get("run_id")
                if isinstance(run_id, str):
                    found.citing.append(
                        (note.id, stream, note.originator_version, note.topic, run_id)
                    )
        return found

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
