"""A watchlist entry: proposed, authorised, source-checked, reviewed, removed, corrected.

Each event is one fact, declared once as a nested class; ``Entry.Event.apply`` records its fields
(all but the header and the sealed subject, as the projection does) and that is all an event does
on replay. The entry's state is always ``governance.domain.facts.fold`` of those facts, the same
function the read side uses for point-in-time answers. Command methods, ``Entry.propose`` among
them, check the rules against that state and the policy in force, then trigger one event. Personal
data arrives already sealed (``governance.integrity.sealing``).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import AggregateCreated

from governance.domain.aggregate import Governed
from governance.domain.facts import CORRECTABLE, RETRACTABLE, EntryState, Fact, fold, resolve
from governance.domain.policy import PolicyDocument
from governance.domain.registry import OfficerState
from governance.domain.rules import check_dates, check_proposal, check_text
from governance.domain.vocabulary import (
    Category,
    RemovalReason,
    ReviewOutcome,
    SourceStatus,
    Status,
)
from governance.errors import InvalidInput, PermissionDenied, RuleViolation

if TYPE_CHECKING:
    from governance.domain.proposal import EntryProposal

#: Event attributes that are not a fact's data: the library's header, who acted and when, and the
#: sealed subject (kept on the aggregate only, so erasing its key leaves no personal data in a fact).
NOT_FACT_DATA = frozenset(
    {f.name for c in (Governed.Event, AggregateCreated) for f in dataclasses.fields(c)}
    | {"subject"}
)


class Entry(Governed):
    """One person's inclusion on the watchlist and every decision about it."""

    TOPIC = "watchlist:Entry"

    class Event(Governed.Event):
        """Every entry event is one fact: its own fields are the fact's data."""

        def apply(self, aggregate: Entry) -> None:
            """Append this event to the entry's facts (and forget the state folded so far)."""
            data = {k: v for k, v in vars(self).items() if k not in NOT_FACT_DATA}
            facts = aggregate.facts
            facts.append(
                Fact(len(facts) + 1, type(self).__name__, self.effective_at, self.actor, data)
            )
            aggregate._state = None

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

        ``subject`` is the proposal's subject already sealed to ``entry_id``. Raises
        ``InvalidInput`` naming every broken rule (``governance.domain.rules.check_proposal``).
        The event holds the proposal's own fields as they are, but for three: the sealed subject,
        the dates in the clock's zone, and whether the subject is a minor (from the date of birth).
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

    def __eq__(self, other: object) -> bool:
        """Equal when every recorded attribute but the cached state is equal."""
        mine = {k: v for k, v in self.__dict__.items() if k != "_state"}
        theirs = {k: v for k, v in getattr(other, "__dict__", {}).items() if k != "_state"}
        return type(self) is type(other) and mine == theirs

    __hash__ = Governed.__hash__

    @property
    def state(self) -> EntryState:
        """The state from every fact recorded so far."""
        if getattr(self, "_state", None) is None:
            self._state = fold(resolve(self.facts))
        assert self._state is not None
        return self._state

    def state_at(self, at: datetime) -> EntryState:
        """The state at instant ``at`` from every fact recorded so far."""
        return fold(resolve(self.facts), at)

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
        target = self.live_fact(version)
        allowed = CORRECTABLE.get(target.kind)
        if allowed is None:
            raise RuleViolation(
                f"event: version {version} ({target.kind}) cannot be corrected; retract it instead"
            )
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise InvalidInput(
                f"changes: {', '.join(unknown)} cannot be corrected on a {target.kind} fact"
            )
        if effective_at is None and not changes:
            raise InvalidInput("effective-at: a correction must change the time or a value")
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
        target = self.live_fact(version)
        if target.kind not in RETRACTABLE:
            raise RuleViolation(f"event: version {version} ({target.kind}) cannot be retracted")
        check_text("why", reason)
        self.trigger_event(
            self.Retracted, actor=officer_id, effective_at=now, supersedes=version, reason=reason
        )

    def confirm(self, officer_id: str, version: int, note: str, now: datetime) -> None:
        """A second officer confirms a fact recorded very late, which then takes effect."""
        if version not in self.state.pending:
            raise RuleViolation(f"event: version {version} is not awaiting confirmation")
        if self.facts[version - 1].actor == officer_id:
            raise PermissionDenied(
                "the officer who recorded a late fact cannot confirm it themselves"
            )
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

    # -- state --------------------------------------------------------------------------------

    def live_fact(self, version: int) -> Any:
        """The resolved fact that version ``version`` (or its latest correction) established."""
        for fact in resolve(self.facts):
            if version in fact.versions and fact.kind != "Pending":
                return fact
        raise RuleViolation(f"event: version {version} is not a fact in force on this entry")

    @property
    def status(self) -> Status:
        status = self.state.status
        assert status is not None
        return status

    @property
    def category(self) -> Category:
        category = self.state.category
        assert category is not None
        return category

    @property
    def proposed_by(self) -> str:
        return str(self.state.proposed_by)

    @property
    def review_by(self) -> datetime:
        value = self.state.review_by
        assert value is not None
        return value

    @property
    def expires_at(self) -> datetime:
        value = self.state.expires_at
        assert value is not None
        return value

    def max_review_interval(self, policy: PolicyDocument) -> Any:
        """The longest allowed gap between reviews for this entry under ``policy``."""
        return policy.review_interval(self.category, self.state.vulnerable or self.state.minor)

    def check_status(self, wanted: Status, doing: str) -> None:
        """Refuse unless the entry is in status ``wanted``."""
        if self.status is not wanted:
            article = "an" if wanted is Status.ACTIVE else "a"
            raise RuleViolation(
                f"status: the entry is {self.status}; only {article} {wanted} entry can be {doing}"
            )

    def check_open(self, doing: str) -> None:
        """Refuse once the entry has left the watchlist (removed or expired)."""
        if self.status in (Status.REMOVED, Status.EXPIRED):
            raise RuleViolation(f"status: the entry is {self.status}; it cannot be {doing}")
