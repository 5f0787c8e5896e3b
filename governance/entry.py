"""A watchlist entry: proposed, authorised, source-checked, reviewed, removed.

Public command methods check the rules and raise; the ``@event`` methods only assign state, because
they run again on every replay. Personal data arrives already sealed (``governance.sealing``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import AggregateCreated, event

from governance import defaults
from governance.aggregate import Governed
from governance.errors import InvalidInput, PermissionDenied, RuleViolation
from governance.registry import OfficerState
from governance.vocabulary import Category, RemovalReason, ReviewOutcome, SourceStatus, Status


class Entry(Governed):
    """One person's inclusion on the watchlist and every decision about it."""

    TOPIC = "watchlist:Entry"

    class Proposed(Governed.Event, AggregateCreated):
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

    @event(Proposed)
    def __init__(
        self,
        id: UUID,
        actor: str,
        effective_at: datetime,
        subject: dict[str, Any],
        category: str,
        source_record_ref: str,
        offence_ref: str | None,
        objective: str,
        rationale: str,
        image: dict[str, Any],
        vulnerable: bool,
        minor: bool,
        safeguarding_rationale: str | None,
        review_by: datetime,
        expires_at: datetime,
    ) -> None:
        self.subject = subject
        self.category = Category(category)
        self.source_record_ref = source_record_ref
        self.offence_ref = offence_ref
        self.objective = objective
        self.rationale = rationale
        self.image = image
        self.vulnerable = vulnerable
        self.minor = minor
        self.safeguarding_rationale = safeguarding_rationale
        self.review_by = review_by
        self.expires_at = expires_at
        self.status = Status.PROPOSED
        self.proposed_by = actor
        self.proposed_at = effective_at
        self.authorised_by: str | None = None
        self.authorised_rank: str | None = None
        self.authorised_at: datetime | None = None
        self.source_status: SourceStatus | None = None
        self.source_verified_at: datetime | None = None
        self.source_verified_by: str | None = None
        self.last_reviewed_at: datetime | None = None
        self.extension_count = 0
        self.removal_reason: RemovalReason | None = None
        self.removed_at: datetime | None = None
        self.removed_by: str | None = None

    def authorise(self, officer: OfficerState, rationale: str, now: datetime) -> None:
        """An authorising officer, not the proposer and of sufficient rank, activates the entry."""
        self.check_status(Status.PROPOSED, "authorised")
        if officer.officer_id == self.proposed_by:
            raise PermissionDenied(
                "authorised_by_proposer: the officer who proposed an entry cannot authorise it"
            )
        if not officer.rank.at_least(defaults.MIN_AUTHORISER_RANK):
            raise PermissionDenied(
                f"authoriser_rank_too_low: rank {officer.rank} is below the minimum "
                f"{defaults.MIN_AUTHORISER_RANK} for authorising entries"
            )
        check_text("rationale", rationale)
        if self.expires_at <= now:
            raise RuleViolation("expired: the entry's expires_at has passed; propose it afresh")
        self._authorise(
            actor=officer.officer_id, effective_at=now, rationale=rationale, rank=officer.rank.value
        )

    @event("Authorised", topic="watchlist:Entry.Authorised")
    def _authorise(self, actor: str, effective_at: datetime, rationale: str, rank: str) -> None:
        self.status = Status.ACTIVE
        self.authorised_by = actor
        self.authorised_rank = rank
        self.authorised_at = effective_at

    def verify_source(
        self, officer_id: str, status: SourceStatus, checked_at: datetime, note: str | None
    ) -> None:
        """Record the source record's status (warrant live, case resolved) as checked."""
        self.check_open("a source check")
        self._verify_source(
            actor=officer_id, effective_at=checked_at, status=status.value, note=note
        )

    @event("SourceVerified", topic="watchlist:Entry.SourceVerified")
    def _verify_source(
        self, actor: str, effective_at: datetime, status: str, note: str | None
    ) -> None:
        self.source_status = SourceStatus(status)
        self.source_verified_at = effective_at
        self.source_verified_by = actor

    def review(
        self,
        officer_id: str,
        outcome: ReviewOutcome,
        rationale: str,
        review_by: datetime | None,
        expires_at: datetime | None,
        now: datetime,
    ) -> None:
        """Periodic review: retain (with the next review date) or remove."""
        self.check_status(Status.ACTIVE, "reviewed")
        if officer_id == self.proposed_by:
            raise PermissionDenied("the officer who proposed an entry cannot review it")
        check_text("rationale", rationale)
        if outcome is ReviewOutcome.REMOVE:
            if review_by is not None or expires_at is not None:
                raise InvalidInput("review-by: a removal review takes no new review or expiry date")
            next_review, new_expiry = self.review_by, self.expires_at
        else:
            new_expiry = expires_at or self.expires_at
            next_review = review_by or min(now + self.max_review_interval(), new_expiry)
            check_dates(next_review, new_expiry, now, self.max_review_interval())
        self._review(
            actor=officer_id,
            effective_at=now,
            outcome=outcome.value,
            rationale=rationale,
            review_by=next_review,
            expires_at=new_expiry,
        )

    @event("Reviewed", topic="watchlist:Entry.Reviewed")
    def _review(
        self,
        actor: str,
        effective_at: datetime,
        outcome: str,
        rationale: str,
        review_by: datetime,
        expires_at: datetime,
    ) -> None:
        self.last_reviewed_at = effective_at
        if expires_at > self.expires_at:
            self.extension_count += 1
        self.review_by = review_by
        self.expires_at = expires_at
        if outcome == ReviewOutcome.REMOVE:
            self.status = Status.REMOVED
            self.removal_reason = RemovalReason.NO_LONGER_NECESSARY
            self.removed_at = effective_at
            self.removed_by = actor

    def remove(
        self,
        officer_id: str,
        reason: RemovalReason,
        effective_at: datetime,
        note: str | None,
        backdate_reason: str | None,
        source_ref: str | None,
    ) -> None:
        """Take the entry off the watchlist for one of the closed list of reasons."""
        self.check_open("removed")
        self._remove(
            actor=officer_id,
            effective_at=effective_at,
            reason=reason.value,
            note=note,
            backdate_reason=backdate_reason,
            source_ref=source_ref,
        )

    @event("Removed", topic="watchlist:Entry.Removed")
    def _remove(
        self,
        actor: str,
        effective_at: datetime,
        reason: str,
        note: str | None,
        backdate_reason: str | None,
        source_ref: str | None,
    ) -> None:
        self.status = Status.REMOVED
        self.removal_reason = RemovalReason(reason)
        self.removed_at = effective_at
        self.removed_by = actor

    def max_review_interval(self) -> timedelta:
        """The longest allowed gap between reviews for this entry."""
        return review_interval(self.category, self.vulnerable or self.minor)

    def check_status(self, wanted: Status, doing: str) -> None:
        """Refuse unless the entry is in status ``wanted``."""
        if self.status is not wanted:
            raise RuleViolation(
                f"status: the entry is {self.status}; only a {wanted} entry can be {doing}"
            )

    def check_open(self, doing: str) -> None:
        """Refuse once the entry has left the watchlist (removed or expired)."""
        if self.status in (Status.REMOVED, Status.EXPIRED):
            raise RuleViolation(f"status: the entry is {self.status}; it cannot be {doing}")


def review_interval(category: Category, protected: bool) -> timedelta:
    """Maximum review interval for a category; shorter for minors and vulnerable people."""
    interval = defaults.MAX_REVIEW_INTERVAL[category]
    return min(interval, defaults.PROTECTED_REVIEW_INTERVAL) if protected else interval


def check_dates(
    review_by: datetime, expires_at: datetime, now: datetime, interval: timedelta
) -> None:
    """review_by and expires_at must be in the future, in order, and within their maximums."""
    problems = []
    if review_by <= now:
        problems.append("review_by: must be in the future")
    elif review_by - now > interval:
        problems.append(f"review_by: must be within {interval.days} days for this entry")
    if expires_at <= now:
        problems.append("expires_at: must be in the future")
    elif expires_at - now > defaults.MAX_ENTRY_LIFETIME:
        problems.append(f"expires_at: must be within {defaults.MAX_ENTRY_LIFETIME.days} days")
    if review_by > expires_at:
        problems.append("review_by: must not be later than expires_at")
    if problems:
        raise InvalidInput(problems)


def check_text(field: str, value: str) -> None:
    """A free-text justification must be present."""
    if not value or not value.strip():
        raise InvalidInput(f"{field}: is required and cannot be blank (missing_rationale)")
