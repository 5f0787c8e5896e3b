"""A watchlist entry: proposed, authorised, source-checked, reviewed, removed, corrected.

``Entry.propose`` creates an entry and each command changes one: each checks the rules against the
entry's state and the policy in force, then triggers one event, a nested past-tense class that
declares its fields once. Events only record facts; queries and guards over the facts are in
``governance.domain.entry_facts``. Personal data arrives already sealed (``integrity.sealing``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import AggregateCreated

from governance.domain.aggregate import Governed
from governance.domain.entry_facts import EntryFacts, FactEvent
from governance.domain.facts import EntryState, Fact
from governance.domain.policy import PolicyDocument
from governance.domain.registry import OfficerState
from governance.domain.rules import check_dates, check_proposal, check_text
from governance.domain.vocabulary import RemovalReason, ReviewOutcome, SourceStatus, Status
from governance.errors import InvalidInput, PermissionDenied, RuleViolation

if TYPE_CHECKING:
    from governance.domain.proposal import EntryProposal


class Entry(EntryFacts, Governed):
    """One person's inclusion on the watchlist and every decision about it."""

    TOPIC = "watchlist:Entry"

    class Event(FactEvent):
        """Base of the entry's events: applying one appends one fact (``FactEvent``)."""

    class Proposed(Event, AggregateCreated):
        """A custodian proposed the entry; it is not on any list until authorised."""

        TOPIC = "watchlist:Entry.Proposed"
        subject: dict[str, Any]
        category: str
        source_record_ref: str
        offence_ref: str | None
        objective: str
        rationale: str
        image: dict[str, Any]
        vulnerable: bool
        minor: bool
        safeguarding_rationale: str | None
        review_by: datetime
        expires_at: datetime

    class Authorised(Event):
        """An authorising officer of sufficient rank, not the proposer, activated the entry."""

        TOPIC = "watchlist:Entry.Authorised"
        rationale: str
        rank: str

    class SourceVerified(Event):
        """The source record's status (warrant live, case resolved) was checked."""

        TOPIC = "watchlist:Entry.SourceVerified"
        status: str
        note: str | None

    class Reviewed(Event):
        """A periodic review retained the entry (with its next dates) or removed it."""

        TOPIC = "watchlist:Entry.Reviewed"
        outcome: str
        rationale: str
        review_by: datetime
        expires_at: datetime

    class Removed(Event):
        """The entry was taken off the watchlist; a very late removal awaits confirmation."""

        TOPIC = "watchlist:Entry.Removed"
        reason: str
        note: str | None
        backdate_reason: str | None
        source_ref: str | None
        needs_confirmation: bool

    class Corrected(Event):
        """An earlier fact was superseded by a corrected one."""

        TOPIC = "watchlist:Entry.Corrected"
        supersedes: int
        changes: dict[str, Any]
        reason: str

    class Retracted(Event):
        """An earlier fact was withdrawn as never having held."""

        TOPIC = "watchlist:Entry.Retracted"
        supersedes: int
        reason: str

    class Confirmed(Event):
        """A second officer confirmed a fact recorded very late."""

        TOPIC = "watchlist:Entry.Confirmed"
        confirms: int
        note: str

    class Expired(Event):
        """A scheduled sweep recorded that the entry lapsed at its ``expires_at``."""

        TOPIC = "watchlist:Entry.Expired"
        run_id: str

    __hash__ = Governed.__hash__  # EntryFacts defines __eq__; keep the aggregate's hash

    def __init__(self, subject: dict[str, Any]) -> None:
        """Called by the library with the ``Proposed`` event's subject; ``apply`` adds the fact."""
        self.subject = subject
        self.facts: list[Fact] = []
        self._state: EntryState | None = None

    @classmethod
    def propose(
        cls,
        proposal: EntryProposal,
        subject: dict[str, Any],
        *,
        entry_id: UUID,
        actor: str,
        now: datetime,
        policy: PolicyDocument,
    ) -> Entry:
        """A new, inactive entry from a validated proposal, if the policy in force allows it.

        ``subject`` is the proposal's subject sealed to ``entry_id``. Raises ``InvalidInput``
        naming every broken rule (``rules.check_proposal``). The event holds the proposal's own
        fields as they are but three: the sealed subject, the dates in the clock's zone, and minor.
        """
        minor = check_proposal(proposal, now, policy)
        fields = proposal.model_dump(mode="json", exclude={"subject", "review_by", "expires_at"})
        return cls._create(
            cls.Proposed,
            id=entry_id,
            actor=actor,
            effective_at=now,
            subject=subject,
            minor=minor,
            review_by=proposal.review_by.astimezone(now.tzinfo),
            expires_at=proposal.expires_at.astimezone(now.tzinfo),
            **fields,
        )

    # -- commands ---------------------------------------------------------------------------

    def authorise(
        self, officer: OfficerState, rationale: str, now: datetime, policy: PolicyDocument
    ) -> None:
        """An authorising officer, not the proposer and of sufficient rank, activates the entry."""
        self.check_status(Status.PROPOSED, "authorised")
        if officer.officer_id == self.state.proposed_by:
            raise PermissionDenied(
                "authorised_by_proposer: the officer who proposed an entry cannot authorise it"
            )
        if not officer.rank.at_least(policy.min_authoriser_rank):
            raise PermissionDenied(
                f"authoriser_rank_too_low: rank {officer.rank} is below the minimum "
                f"{policy.min_authoriser_rank} for authorising entries"
            )
        check_text("rationale", rationale)
        if self.expires_at <= now:
            raise RuleViolation("expired: the entry's expires_at has passed; propose it afresh")
        self.trigger_event(
            self.Authorised,
            actor=officer.officer_id,
            effective_at=now,
            rationale=rationale,
            rank=officer.rank.value,
        )

    def verify_source(
        self, officer_id: str, status: SourceStatus, checked_at: datetime, note: str | None
    ) -> None:
        """Record the source record's status (warrant live, case resolved) as checked."""
        self.check_open("a source check")
        self.trigger_event(
            self.SourceVerified,
            actor=officer_id,
            effective_at=checked_at,
            status=status.value,
            note=note,
        )

    def review(
        self,
        officer_id: str,
        outcome: ReviewOutcome,
        rationale: str,
        review_by: datetime | None,
        expires_at: datetime | None,
        now: datetime,
        policy: PolicyDocument,
    ) -> None:
        """Periodic review: retain (with the next review date) or remove."""
        self.check_status(Status.ACTIVE, "reviewed")
        if officer_id == self.state.proposed_by and not policy.reviewer_may_be_proposer:
            raise PermissionDenied("the officer who proposed an entry cannot review it (policy)")
        check_text("rationale", rationale)
        interval = self.max_review_interval(policy)
        if outcome is ReviewOutcome.REMOVE:
            if review_by is not None or expires_at is not None:
                raise InvalidInput("review-by: a removal review takes no new review or expiry date")
            next_review, new_expiry = self.review_by, self.expires_at
        else:
            new_expiry = expires_at or self.expires_at
            next_review = review_by or min(now + interval, new_expiry)
            check_dates(next_review, new_expiry, now, interval, policy)
        self.trigger_event(
            self.Reviewed,
            actor=officer_id,
            effective_at=now,
            outcome=outcome.value,
            rationale=rationale,
            review_by=next_review,
            expires_at=new_expiry,
        )

    def remove(
        self,
        officer_id: str,
        reason: RemovalReason,
        effective_at: datetime,
        note: str | None,
        backdate_reason: str | None,
        source_ref: str | None,
        needs_confirmation: bool = False,
    ) -> None:
        """Take the entry off the watchlist; very late removals wait for a second officer."""
        self.check_open("removed")
        self.trigger_event(
            self.Removed,
            actor=officer_id,
            effective_at=effective_at,
            reason=reason.value,
            note=note,
            backdate_reason=backdate_reason,
            source_ref=source_ref,
            needs_confirmation=needs_confirmation,
        )

    def correct(
        self,
        officer_id: str,
        version: int,
        effective_at: datetime | None,
        changes: dict[str, Any],
        reason: str,
    ) -> None:
        """Supersede an earlier fact with a corrected one (new effective time and/or values)."""
        target = self.check_correction(version, effective_at, changes)
        check_text("why", reason)
        self.trigger_event(
            self.Corrected,
            actor=officer_id,
            effective_at=effective_at or target.effective_at,
            supersedes=version,
            changes=changes,
            reason=reason,
        )

    def retract(self, officer_id: str, version: int, reason: str, now: datetime) -> None:
        """Withdraw an earlier fact as never having held."""
        self.check_retraction(version)
        check_text("why", reason)
        self.trigger_event(
            self.Retracted, actor=officer_id, effective_at=now, supersedes=version, reason=reason
        )

    def confirm(self, officer_id: str, version: int, note: str, now: datetime) -> None:
        """A second officer confirms a fact recorded very late, which then takes effect."""
        self.check_confirmation(version, officer_id)
        check_text("note", note)
        self.trigger_event(
            self.Confirmed, actor=officer_id, effective_at=now, confirms=version, note=note
        )

    def expire(self, officer_id: str, run_id: str, now: datetime) -> None:
        """Record that the entry lapsed at its ``expires_at`` (a scheduled sweep's fact)."""
        if self.status not in (Status.PROPOSED, Status.ACTIVE):
            raise RuleViolation(f"status: the entry is {self.status}; only a listed entry expires")
        if self.expires_at > now:
            raise RuleViolation("expires_at: the entry has not reached its expiry yet")
        self.trigger_event(
            self.Expired, actor=officer_id, effective_at=self.expires_at, run_id=run_id
        )
