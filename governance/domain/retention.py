"""An entry's data lifecycle: legal holds and erasure of its personal data.

Kept apart from the entry's own decisions (its stream is named after the entry), so a hold placed
by the legal team never contends with a custodian's or reviewer's decision. Erasure destroys the
entry's data key in the same transaction as the ``Erased`` event, which holds metadata only.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import AggregateCreated, event

from governance.domain.aggregate import Governed, named_stream
from governance.domain.rules import check_text
from governance.errors import InvalidInput, RuleViolation


def retention_stream(entry_id: UUID) -> UUID:
    """Stream id of an entry's retention record."""
    return named_stream("retention", str(entry_id))


class Retention(Governed):
    """Holds on, and erasure of, one entry's personal data."""

    TOPIC = "watchlist:Retention"

    @staticmethod
    def create_id(entry_id: str) -> UUID:
        return retention_stream(UUID(entry_id))

    class Opened(Governed.Event, AggregateCreated):
        """The first retention decision about an entry."""

        TOPIC = "watchlist:Retention.Opened"
        entry_id: str

    @event(Opened)
    def __init__(self, actor: str, effective_at: datetime, entry_id: str) -> None:
        self.entry_id = entry_id
        self.holds: dict[str, str] = {}
        self.erased_at: datetime | None = None
        self.erasure_reason: str | None = None

    @property
    def held(self) -> bool:
        return bool(self.holds)

    def place_hold(self, officer_id: str, case_ref: str, reason: str, now: datetime) -> None:
        """Keep the personal data for a case (DPA 2018 s.47: restrict rather than erase evidence)."""
        if self.erased_at is not None:
            raise RuleViolation("hold: the entry's personal data has already been erased")
        if not case_ref.strip():
            raise InvalidInput("case-ref: a hold needs the case reference")
        if case_ref in self.holds:
            raise RuleViolation(f"hold: a hold for case {case_ref} is already in place")
        check_text("reason", reason)
        self._place_hold(
            actor=officer_id, effective_at=now, case_ref=case_ref.strip(), reason=reason
        )

    @event("HoldPlaced", topic="watchlist:Retention.HoldPlaced")
    def _place_hold(self, actor: str, effective_at: datetime, case_ref: str, reason: str) -> None:
        self.holds[case_ref] = reason

    def release_hold(
        self, officer_id: str, case_ref: str | None, reason: str, now: datetime
    ) -> None:
        """Release a hold (the only one, or the one for ``case_ref``)."""
        if not self.holds:
            raise RuleViolation("hold: there is no hold on this entry")
        if case_ref is None:
            if len(self.holds) > 1:
                raise InvalidInput(
                    f"case-ref: several holds are in place ({', '.join(sorted(self.holds))}); name one"
                )
            case_ref = next(iter(self.holds))
        if case_ref not in self.holds:
            raise RuleViolation(f"hold: there is no hold for case {case_ref}")
        check_text("reason", reason)
        self._release_hold(actor=officer_id, effective_at=now, case_ref=case_ref, reason=reason)

    @event("HoldReleased", topic="watchlist:Retention.HoldReleased")
    def _release_hold(self, actor: str, effective_at: datetime, case_ref: str, reason: str) -> None:
        self.holds.pop(case_ref, None)

    def erase(self, officer_id: str, reason: str, run_id: str | None, now: datetime) -> None:
        """Record the erasure of the entry's personal data (its key is destroyed with this event)."""
        if self.erased_at is not None:
            raise RuleViolation("erase: the entry's personal data has already been erased")
        if self.held:
            raise RuleViolation(
                f"erase: a legal hold is in place ({', '.join(sorted(self.holds))})"
            )
        check_text("reason", reason)
        self._erase(actor=officer_id, effective_at=now, reason=reason, run_id=run_id)

    @event("Erased", topic="watchlist:Retention.Erased")
    def _erase(self, actor: str, effective_at: datetime, reason: str, run_id: str | None) -> None:
        self.erased_at = effective_at
        self.erasure_reason = reason


class SweepRun(Governed):
    """One completed run of the retention sweep, with its counts (its own one-event stream)."""

    TOPIC = "watchlist:SweepRun"

    class Completed(Governed.Event, AggregateCreated):
        """A sweep finished; what it found and did."""

        TOPIC = "watchlist:SweepRun.Completed"
        run_id: str
        counts: dict[str, int]
        review_overdue: list[str]
        expiring_soon: list[str]
        held: list[str]

    @event(Completed)
    def __init__(
        self,
        actor: str,
        effective_at: datetime,
        run_id: str,
        counts: dict[str, int],
        review_overdue: list[str],
        expiring_soon: list[str],
        held: list[str],
    ) -> None:
        self.run_id = run_id
        self.counts = counts
        self.review_overdue = review_overdue
        self.expiring_soon = expiring_soon
        self.held = held
