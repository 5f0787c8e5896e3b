"""The write-time rules checked again on every stored event (``governance.domain.rechecks``).

Rank and standing come from the officer registry as it stood at the event's store position, and
the bounds from the valid policy versions stored before it: never from what the event claims. An
enrolment or rotation must not register a key another officer holds or held.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from governance.domain.rechecks import (
    ENTRY_AUTHORISED,
    ENTRY_CONFIRMED,
    ENTRY_PREFIX,
    RANKED,
    Bounds,
    EntryContext,
    Published,
    bounds_in_force,
    rule_problems,
)
from governance.errors import IntegrityFailure
from governance.integrity.envelope import Envelope, EnvelopeError
from governance.storage.recorders import Record

if TYPE_CHECKING:
    from governance.integrity.verifier import Verifier

ENROLLED = "watchlist:Officer.Enrolled"
KEY_ROTATED = "watchlist:Officer.KeyRotated"


class RuleChecks:
    """The rules of one store's verifier, with the policy versions it has verified so far."""

    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier
        self._policies: list[tuple[int, Published]] = []  # verified policy versions, by position
        self._policies_read = 0  # how many of the feed's policy records were taken into account

    def shared_key_problems(self, record: Record, envelope: Envelope) -> list[str]:
        """A key an enrolment or rotation registers must not be registered to another officer
        (now or before) by an event stored earlier: one key holder would be two officers."""
        if record.position - 1 > self.verifier.feed.known:
            self.verifier.feed.sync()
        kid = envelope.payload.get("key_id")
        stream = str(record.stored.originator_id).replace("-", "")
        officer_of: dict[str, str] = {}
        holders = set()
        for earlier in self.verifier.feed.key_records:
            if earlier.position >= record.position:
                break
            try:
                other = self.verifier.codec.decode(earlier.stored.state)
            except EnvelopeError:
                continue  # reported where it stands
            other_stream = str(earlier.stored.originator_id).replace("-", "")
            if other.type == ENROLLED:
                officer_of[other_stream] = str(other.payload.get("officer_id"))
            if other_stream != stream and other.payload.get("key_id") == kid:
                holders.add(officer_of.get(other_stream, other_stream))
        if not holders:
            return []
        return [
            f"shared_key: key {kid} is already registered to officer {', '.join(sorted(holders))}: "
            "two officers cannot share one key"
        ]

    def problems(
        self, record: Record, envelope: Envelope, context: EntryContext | None = None
    ) -> list[str]:
        """The write-time rules checked again (``governance.domain.rechecks``): rank from the
        registry at this position, the policy in force as known here, and the entry's earlier facts.
        """
        kind = envelope.type
        if kind not in RANKED and not kind.startswith(ENTRY_PREFIX):
            return []
        try:
            recorded_at, effective_at = envelope.recorded_at, envelope.effective_at
        except (KeyError, TypeError, ValueError):
            return []  # a malformed time is reported by the envelope's own checks
        rank = None
        if kind in RANKED:
            try:
                state = self.verifier.officer_at(envelope.actor, record.position)
            except IntegrityFailure:
                state = None  # reported as the signer's standing
            rank = None if state is None else state.rank.value
        if context is None and kind in (ENTRY_AUTHORISED, ENTRY_CONFIRMED):
            context = self._entry_context(record)
        return rule_problems(
            kind,
            envelope.actor,
            recorded_at,
            effective_at,
            envelope.payload,
            rank,
            self.bounds_at(record.position, recorded_at),
            context,
        )

    def _entry_context(self, record: Record) -> EntryContext:
        """The entry's events before ``record``, followed from the store (not verified here: each
        is verified where it stands)."""
        context = EntryContext()
        version = record.stored.originator_version
        stream = UUID(str(record.stored.originator_id))
        earlier = self.verifier.recorder.select_records(stream, lte=version - 1)
        for before in earlier:
            try:
                envelope = self.verifier.codec.decode(before.stored.state)
            except EnvelopeError:
                continue
            context.follow(envelope.type, envelope.version, envelope.actor, envelope.payload)
        return context

    def bounds_at(self, position: int, at: datetime) -> Bounds:
        """The policy bounds in force at ``at``, from the valid versions stored before ``position``."""
        if position - 1 > self.verifier.feed.known:
            self.verifier.feed.sync()
        for record in self.verifier.feed.policy_records[self._policies_read :]:
            self._policies_read += 1
            (checked,) = self.verifier.check_stream([record])
            if not checked.valid or checked.envelope is None:
                continue  # reported where it stands; an invalid version is never in force
            try:
                published = Published(
                    int(checked.envelope.payload["version"]),
                    checked.envelope.effective_at,
                    Bounds.of(checked.envelope.payload["document"]),
                )
            except (KeyError, TypeError, ValueError):
                continue
            self._policies.append((record.position, published))
        return bounds_in_force([p for at_, p in self._policies if at_ < position], at)
