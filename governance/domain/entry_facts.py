"""An entry's facts: how each of its events becomes one, what they say, and which may be amended.

Every ``Entry`` event is one fact (``FactEvent.apply``); the entry's state is always
``governance.domain.facts.fold`` of its facts, the same function the projection uses. ``Entry``
inherits ``EntryFacts``: its queries and the guards its commands check, none of which records
anything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import AggregateCreated

from governance.domain.aggregate import Governed
from governance.domain.facts import (
    CORRECTABLE,
    RETRACTABLE,
    EntryState,
    Fact,
    Resolved,
    fold,
    resolve,
)
from governance.domain.vocabulary import Category, Status
from governance.errors import InvalidInput, PermissionDenied, RuleViolation

if TYPE_CHECKING:
    from governance.domain.policy import PolicyDocument

#: Event attributes that are not a fact's data: the library's header, who acted and when, and the
#: sealed subject (kept on the aggregate only, so erasing its key leaves no personal data in a fact;
#: the projection leaves out the same).
NOT_FACT_DATA = frozenset(
    {f.name for c in (Governed.Event, AggregateCreated) for f in dataclasses.fields(c)}
    | {"subject"}
)


class FactEvent(Governed.Event):
    """An entry event: applying it appends one fact, its own fields as the fact's data.

    That is all an event does when the entry is replayed; the command that triggered it has
    already checked the rules.
    """

    def apply(self, aggregate: EntryFacts) -> None:
        """Append this event to the entry's facts (and forget the state folded so far)."""
        data = {k: v for k, v in vars(self).items() if k not in NOT_FACT_DATA}
        facts = aggregate.facts
        facts.append(Fact(len(facts) + 1, type(self).__name__, self.effective_at, self.actor, data))
        aggregate._state = None


class EntryFacts:  # noqa: PLW1641 (Entry keeps the aggregate's own __hash__)
    """An entry's recorded facts, its state folded from them (cached), and guards over them."""

    facts: list[Fact]
    _state: EntryState | None

    def __eq__(self, other: object) -> bool:
        """Equal when every recorded attribute but the cached state is equal."""
        mine = {k: v for k, v in self.__dict__.items() if k != "_state"}
        theirs = {k: v for k, v in getattr(other, "__dict__", {}).items() if k != "_state"}
        return type(self) is type(other) and mine == theirs

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

    def max_review_interval(self, policy: PolicyDocument) -> timedelta:
        """The longest allowed gap between reviews for this entry under ``policy``."""
        return policy.review_interval(self.category, self.state.vulnerable or self.state.minor)

    def live_fact(self, version: int) -> Resolved:
        """The resolved fact that version ``version`` (or its latest correction) established."""
        for fact in resolve(self.facts):
            if version in fact.versions and fact.kind != "Pending":
                return fact
        raise RuleViolation(f"event: version {version} is not a fact in force on this entry")

    # -- guards -------------------------------------------------------------------------------

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

    def check_correction(
        self, version: int, effective_at: datetime | None, changes: Mapping[str, Any]
    ) -> Resolved:
        """The fact a correction of ``version`` supersedes, if it may change it so."""
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
        return target

    def check_retraction(self, version: int) -> None:
        """Refuse unless version ``version`` is a fact in force of a kind that may be retracted."""
        target = self.live_fact(version)
        if target.kind not in RETRACTABLE:
            raise RuleViolation(f"event: version {version} ({target.kind}) cannot be retracted")

    def check_confirmation(self, version: int, officer_id: str) -> None:
        """Refuse unless ``version`` awaits confirmation and another officer recorded it."""
        if version not in self.state.pending:
            raise RuleViolation(f"event: version {version} is not awaiting confirmation")
        if self.facts[version - 1].actor == officer_id:
            raise PermissionDenied(
                "the officer who recorded a late fact cannot confirm it themselves"
            )
