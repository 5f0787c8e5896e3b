"""The entry service: propose, authorise, record source checks, review, remove, reveal the subject."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from governance import clock
from governance.domain.backdating import check_effective_at
from governance.domain.consultation import Consultation
from governance.domain.entry import Entry
from governance.domain.permissions import Action
from governance.domain.retention import Retention, retention_stream
from governance.domain.rules import check_text
from governance.domain.vocabulary import RemovalReason, ReviewOutcome, SourceStatus
from governance.errors import IntegrityFailure, NotFound, RuleViolation
from governance.ids import uuid7
from governance.integrity.checked import Checked
from governance.integrity.sealing import MasterKey, seal, unseal
from governance.integrity.signing import Signer
from governance.services.policies import PolicyService
from governance.services.ports import Store
from governance.services.retry import retried

if TYPE_CHECKING:
    from governance.domain.proposal import EntryProposal

ERASED = "erased"


@dataclass(frozen=True)
class HistoryItem:
    """One event of an entry's history with its verification result."""

    checked: Checked
    event: Any | None


class EntryService:
    """Proposing, authorising, checking, reviewing, correcting and removing watchlist entries."""

    def __init__(self, store: Store, policies: PolicyService) -> None:
        self.store = store
        self.policies = policies
        self._master: MasterKey | None = None

    @property
    def master_key(self) -> MasterKey:
        """The store's key-wrapping key, read from the home directory when first needed."""
        if self._master is None:
            self._master = MasterKey.load(self.store.settings.master_key_path)
        return self._master

    @retried
    def propose(self, signer: Signer, proposal: EntryProposal) -> Entry:
        """Record a proposed entry with its subject sealed; it is inactive until authorised."""
        self.store.authenticate(signer, Action.PROPOSE_ENTRY)
        now = clock.now()
        policy = self.policies.command_policy(now)
        entry_id = self.new_id()
        sealed = seal(proposal.subject.model_dump(mode="json"), str(entry_id), self.master_key)
        entry = Entry.propose(
            proposal,
            sealed.field,
            entry_id=entry_id,
            actor=signer.officer_id,
            now=now,
            policy=policy,
        )
        self.store.record(entry, signer=signer, subject_keys=[(sealed.key_ref, sealed.wrapped_key)])
        return entry

    @retried
    def authorise(self, signer: Signer, entry_id: UUID, rationale: str) -> Entry:
        """Authorise a proposed entry (a different officer, of sufficient rank)."""
        officer = self.store.authenticate(signer, Action.AUTHORISE_ENTRY)
        entry = self.get(entry_id)
        now = clock.now()
        entry.authorise(officer, rationale, now, self.policies.command_policy(now))
        self.store.record(entry, signer=signer)
        return entry

    @retried
    def verify_source(
        self,
        signer: Signer,
        entry_id: UUID,
        status: SourceStatus,
        checked_at: datetime | None,
        note: str | None,
    ) -> Entry:
        """Record the status of the entry's source record as checked at ``checked_at``."""
        self.store.authenticate(signer, Action.VERIFY_SOURCE)
        now = clock.now()
        at = checked_at or now
        policy = self.policies.command_policy(now)
        if check_effective_at("checked-at", at, now, note, None, policy, "--note", None):
            raise RuleViolation(
                f"checked-at: a source check recorded more than {policy.second_officer_backdating_days} "
                "days late says nothing about the source today; check it again"
            )
        entry = self.get(entry_id)
        entry.verify_source(signer.officer_id, status, at, note)
        self.store.record(entry, signer=signer)
        return entry

    @retried
    def review(
        self,
        signer: Signer,
        entry_id: UUID,
        outcome: ReviewOutcome,
        rationale: str,
        review_by: datetime | None,
        expires_at: datetime | None,
    ) -> Entry:
        """Record a periodic review: retain with a next review date, or remove."""
        self.store.authenticate(signer, Action.REVIEW_ENTRY)
        entry = self.get(entry_id)
        now = clock.now()
        entry.review(
            signer.officer_id,
            outcome,
            rationale,
            review_by,
            expires_at,
            now,
            self.policies.command_policy(now),
        )
        self.store.record(entry, signer=signer)
        return entry

    @retried
    def remove(
        self,
        signer: Signer,
        entry_id: UUID,
        reason: RemovalReason,
        effective_at: datetime | None,
        note: str | None,
        backdate_reason: str | None = None,
        source_ref: str | None = None,
    ) -> Entry:
        """Take an entry off the watchlist, possibly with effect from an earlier time."""
        self.store.authenticate(signer, Action.REMOVE_ENTRY)
        now = clock.now()
        at = effective_at or now
        late = check_effective_at(
            "effective-at", at, now, backdate_reason, source_ref, self.policies.command_policy(now)
        )
        entry = self.get(entry_id)
        entry.remove(
            signer.officer_id,
            reason,
            at,
            note,
            backdate_reason,
            source_ref,
            needs_confirmation=late,
        )
        self.store.record(entry, signer=signer)
        return entry

    @retried
    def correct(
        self,
        signer: Signer,
        entry_id: UUID,
        version: int,
        effective_at: datetime | None,
        changes: dict[str, Any],
        reason: str,
        source_ref: str | None = None,
    ) -> Entry:
        """Supersede a recorded fact with a corrected one; nothing is edited."""
        self.store.authenticate(signer, Action.CORRECT_ENTRY)
        now = clock.now()
        entry = self.get(entry_id)
        if effective_at is not None:
            late = check_effective_at(
                "effective-at",
                effective_at,
                now,
                reason,
                source_ref,
                self.policies.command_policy(now),
                "--why",
            )
            if late:
                raise RuleViolation(
                    "effective-at: corrections that far back need a new late record confirmed by a second officer"
                )
        entry.correct(signer.officer_id, version, effective_at, changes, reason)
        self.store.record(entry, signer=signer)
        return entry

    @retried
    def retract(self, signer: Signer, entry_id: UUID, version: int, reason: str) -> Entry:
        """Withdraw a recorded fact as never having held."""
        self.store.authenticate(signer, Action.CORRECT_ENTRY)
        entry = self.get(entry_id)
        entry.retract(signer.officer_id, version, reason, clock.now())
        self.store.record(entry, signer=signer)
        return entry

    @retried
    def confirm(self, signer: Signer, entry_id: UUID, version: int, note: str) -> Entry:
        """A second officer confirms a fact recorded very late."""
        self.store.authenticate(signer, Action.CONFIRM_LATE_FACT)
        entry = self.get(entry_id)
        entry.confirm(signer.officer_id, version, note, clock.now())
        self.store.record(entry, signer=signer)
        return entry

    @retried
    def reveal(self, signer: Signer, entry_id: UUID, purpose: str) -> dict[str, Any] | str:
        """The subject's personal data, for a stated purpose; the consultation is recorded."""
        self.store.authenticate(signer, Action.CONSULT_SUBJECT)
        check_text("purpose", purpose)
        entry = self.get(entry_id)
        wrapped = self.subject_key(entry)
        if wrapped is None:
            return ERASED
        subject = unseal(entry.subject, str(entry.id), wrapped, self.master_key)
        consultation = Consultation(
            actor=signer.officer_id,
            effective_at=clock.now(),
            entry_id=str(entry.id),
            purpose=purpose.strip(),
            kind="consultation",
        )
        self.store.record(consultation, signer=signer)
        return subject

    def shown(
        self, entry_id: UUID, signer: Signer | None = None, purpose: str | None = None
    ) -> tuple[Entry, dict[str, Any] | str]:
        """``entry show``: the verified entry, and its subject revealed for ``purpose`` (recorded)
        or else ``"withheld"`` (``"erased"`` once its data key is destroyed)."""
        entry = self.get(entry_id)
        if purpose is not None and signer is not None:
            return entry, self.reveal(signer, entry_id, purpose)
        return entry, "withheld" if self.subject_key(entry) is not None else ERASED

    def has_subject_key(self, entry_id: UUID) -> bool:
        """False once the entry's personal data has been erased (its data key destroyed)."""
        return self.subject_key(self.get(entry_id)) is not None

    def subject_key(self, entry: Entry) -> str | None:
        """The entry's wrapped data key; None after a recorded erasure.

        A key missing without a signed erasure record means someone deleted it behind the store's
        back, which is an integrity failure, not an erasure.
        """
        wrapped = self.store.store_recorder.subject_key(str(entry.subject["key_ref"]))
        if wrapped is None and not self.erasure_recorded(entry.id):
            raise IntegrityFailure(
                f"entry {entry.id}: its data key is missing but no erasure was recorded"
            )
        return wrapped

    def erasure_recorded(self, entry_id: UUID) -> bool:
        """True if a verified ``Erased`` event exists for the entry."""
        stream = retention_stream(entry_id)
        if not self.store.exists(stream):
            return False
        record: Retention = self.store.load(stream, Retention, "retention record")
        return record.erased_at is not None

    def new_id(self) -> UUID:
        """A fresh entry id, in creation order (the subject is sealed to it before the entry exists)."""
        return uuid7()

    def get(self, entry_id: UUID) -> Entry:
        """A verified entry, or NotFound."""
        entry: Entry = self.store.load(entry_id, Entry, "entry")
        return entry

    def history(self, entry_id: UUID) -> list[HistoryItem]:
        """Every event of an entry with its verification result (never raises on a bad event)."""
        checked = self.store.signed_events.check(entry_id)
        if not checked:
            raise NotFound(f"entry: {entry_id} not found")
        return [
            HistoryItem(c, self.store.verifier.to_event(c.envelope) if c.envelope else None)
            for c in checked
        ]

    def all(self) -> list[Entry]:
        """Every entry, verified, in the order they were proposed."""
        return [
            self.get(UUID(str(n.originator_id)))
            for n in self.store.notifications(["watchlist:Entry.Proposed"])
        ]
