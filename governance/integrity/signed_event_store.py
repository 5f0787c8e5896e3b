"""The library's event store, made to sign every write and verify every read.

``put`` signs each new event as the acting officer, chaining it to the previous stored event of its
stream; ``get`` verifies every event it returns and raises ``IntegrityFailure`` naming each bad one,
so the repository never builds an aggregate from an unverified event.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    EventStore,
    Mapper,
    Notification,
    Recording,
    StoredEvent,
)
from eventsourcing.utils import get_topic

from governance.errors import Conflict, IntegrityFailure
from governance.integrity.checked import Checked
from governance.integrity.envelope import GENESIS_PREV, EnvelopeCodec, Signs, state_hash
from governance.integrity.verifier import Verifier
from governance.storage.recorders import Record, WatchlistRecorder
from governance.storage.records import GOVERNANCE_TOPICS


class SignedEventStore(EventStore[UUID]):
    """Signs on the way in, verifies on the way out."""

    def __init__(
        self,
        mapper: Mapper[UUID],
        recorder: Any,
        codec: EnvelopeCodec,
        verifier: Verifier,
    ) -> None:
        super().__init__(mapper, recorder)
        self.records: WatchlistRecorder = recorder
        self.codec = codec
        self.verifier = verifier
        self._heads: dict[UUID, tuple[int, str]] = {}

    def put(
        self, domain_events: Sequence[DomainEventProtocol[UUID]], **kwargs: Any
    ) -> list[Recording[UUID]]:
        """Sign and store events; needs ``signer=`` and, only when founding, ``origin=``."""
        signer: Signs = kwargs.pop("signer")
        origin: str = kwargs.pop("origin", None) or self.verifier.founding.origin
        heads: dict[UUID, str] = {}
        stored = []
        prevs = []
        for event in domain_events:
            stream, version = event.originator_id, event.originator_version
            prev = heads.get(stream) or self._head(stream, version)
            topic = get_topic(type(event))
            state = self.codec.encode(event, topic, origin, prev, signer)
            heads[stream] = state_hash(state)
            stored.append(StoredEvent(stream, version, topic, state))
            prevs.append(prev)
        ids = self.recorder.insert_events(stored, **kwargs) or []
        for item in stored:
            self._heads[UUID(str(item.originator_id))] = (
                item.originator_version,
                state_hash(item.state),
            )
        self._settle(stored, ids, kwargs.get("governance_known") is not None, prevs, signer)
        return [
            Recording(event, Notification(id=n, **vars(item)))
            for event, item, n in zip(domain_events, stored, ids, strict=True)
        ]

    def _settle(
        self,
        stored: list[StoredEvent],
        ids: Sequence[int],
        checked: bool,
        prevs: list[str],
        signer: Signs,
    ) -> None:
        """After a write: move the verifier's watermark on, and trust what was written.

        A write that checked the watermark (``StaleGovernance``) proves no officer or policy record
        was stored between the watermark and its own events, so its signer's standing as read is
        the standing at their positions. A write of officer or policy records instead reads them
        back at once, so the next command's checks include them.
        """
        if not ids:
            return
        if any(item.topic in GOVERNANCE_TOPICS for item in stored):
            self.verifier.feed.sync()
            return
        if not checked:
            return
        self.verifier.feed.advance(max(ids))
        for item, position, prev in zip(stored, ids, prevs, strict=True):
            self.verifier.trust(Record(position, item), prev, signer.officer_id, signer.key_id)

    def _head(self, stream: UUID, version: int) -> str:
        """Hash of the stored event just before ``version`` in ``stream``."""
        if version == 1:
            return GENESIS_PREV
        known = self._heads.get(stream)
        if known and known[0] == version - 1:
            return known[1]
        rows = self.records.select_records(stream, gt=version - 2, lte=version - 1)
        if not rows:
            raise Conflict(f"stream {stream} changed while it was being updated; try again")
        return state_hash(rows[0].stored.state)

    def get(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[DomainEventProtocol[UUID]]:
        """Verified domain events of one stream (raises on the first read of any bad event)."""
        checked = self.read_verified(originator_id, gt=gt, lte=lte)
        events = [self.verifier.to_event(c.envelope) for c in checked if c.envelope]
        if desc:
            events.reverse()
        return iter(events[:limit] if limit is not None else events)

    def read_verified(
        self, stream: UUID, *, gt: int | None = None, lte: int | None = None
    ) -> list[Checked]:
        """Checked events of a stream after ``gt``; raises ``IntegrityFailure`` if any is bad."""
        checked = self.check(stream, gt=gt, lte=lte)
        failures = [f for c in checked for f in c.failures()]
        if failures:
            raise IntegrityFailure(failures)
        if checked:
            last = checked[-1].record.stored
            self._heads[stream] = (last.originator_version, state_hash(last.state))
        return checked

    def check(
        self, stream: UUID, *, gt: int | None = None, lte: int | None = None
    ) -> list[Checked]:
        """Checked events of a stream after ``gt`` without raising (for history views)."""
        start = gt - 1 if gt else None  # fetch one earlier event to anchor the hash chain
        records = self.records.select_records(stream, gt=start, lte=lte)
        if not records:
            return []
        anchor = None
        if gt and records[0].stored.originator_version == gt:
            anchor, records = records[0], records[1:]
        prev = state_hash(anchor.stored.state) if anchor else GENESIS_PREV
        return self.verifier.check_stream(records, prev, first_version=(gt or 0) + 1)
