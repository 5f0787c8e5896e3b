"""Entries' histories read from the verified event store: the ``EntryHistory`` the compile gate uses.

Every event is read back and checked (signature, hash chain, signer standing) before it counts;
the facts known at a position are those recorded at or before it. The one judge that reads them is
``governance.domain.judging.judge``; the projection tables give the same answers
(``projections.judging``) faster, for queries over many entries.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.application import project_aggregate

from governance.domain.entry import Entry
from governance.domain.facts import EntryState, resolve, timeline
from governance.domain.judging import Place
from governance.errors import NotFound
from governance.integrity.checked import Checked
from governance.services.ports import Store
from governance.times import to_micros

PROPOSED = "watchlist:Entry.Proposed"


@dataclass(frozen=True)
class Known:
    """One entry's verified record as known at a position: its aggregate then, and its facts' places."""

    entry: Entry | None
    places: dict[int, Place]


class StoredHistory:
    """``EntryHistory`` over the verified event store; raises ``NotFound`` for an unknown entry.

    Each entry's events are read and verified once per (entry, position) for the life of the object,
    so make one per judgement rather than keeping one across writes.
    """

    def __init__(self, store: Store, verified: Mapping[str, list[Checked]] | None = None) -> None:
        self.store = store
        self.read: dict[tuple[str, int], Known] = {}
        #: Streams the caller has already read and verified in full (as ``read_verified`` does).
        self.verified = verified or {}

    def states(
        self, entry_ids: Sequence[str], at: datetime, known_at: int
    ) -> dict[str, EntryState]:
        found = {}
        for entry_id in entry_ids:
            entry = self.known(entry_id, known_at).entry
            steps = [] if entry is None else timeline(resolve(entry.facts), at)
            if steps:
                found[entry_id] = steps[-1][1]
        return found

    def versions(self, entry_ids: Sequence[str], known_at: int) -> dict[str, int]:
        found = {}
        for entry_id in entry_ids:
            entry = self.known(entry_id, known_at).entry
            if entry is not None:
                found[entry_id] = entry.version
        return found

    def revoked(self, officer_ids: Sequence[str], at: datetime, known_at: int) -> Collection[str]:
        found = set()
        for officer_id in officer_ids:
            standing = self.store.verifier.officer_at(officer_id, known_at + 1)
            if standing and standing.revoked and standing.revoked_at and standing.revoked_at <= at:
                found.add(officer_id)
        return found

    def places(
        self, facts: Sequence[tuple[str, int]], known_at: int
    ) -> dict[tuple[str, int], Place]:
        found = {}
        for entry_id, version in facts:
            place = self.known(entry_id, known_at).places.get(version)
            if place is not None:
                found[(entry_id, version)] = place
        return found

    def known(self, entry_id: str, known_at: int) -> Known:
        """The entry's verified events recorded at or before ``known_at``, read once."""
        key = (entry_id, known_at)
        if key not in self.read:
            checked = self.verified.get(entry_id)
            if checked is None:
                checked = self.store.signed_events.read_verified(UUID(entry_id))
            if not checked or checked[0].record.stored.topic != PROPOSED:
                raise NotFound(f"entry: {entry_id} not found")
            envelopes = [
                (c.record, c.envelope)
                for c in checked
                if c.record.position <= known_at and c.envelope is not None
            ]
            entry: Entry | None = project_aggregate(
                None, [self.store.verifier.to_event(envelope) for _, envelope in envelopes]
            )
            places = {
                record.stored.originator_version: Place(
                    record.position,
                    envelope.actor,
                    record.stored.topic.rpartition(".")[2],
                    to_micros(envelope.effective_at),
                    to_micros(envelope.recorded_at),
                )
                for record, envelope in envelopes
            }
            self.read[key] = Known(entry, places)
        return self.read[key]
