"""The base of every aggregate: events carry the acting officer and the time the fact holds.

``recorded_at`` is the library's event ``timestamp``, read from ``governance.clock``; ``effective_at``
is when the fact holds in the world, supplied by the officer (default: now). Every concrete aggregate
and event declares a stable ``TOPIC`` so stored topics survive module moves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import AggregateEvent, BaseAggregate

from governance import clock
from governance.ids import uuid7

#: Namespace for deterministic stream ids (officers, the store's origin record).
STREAM_NAMESPACE = uuid5(NAMESPACE_URL, "urn:watchlist-governance:stream")


def named_stream(kind: str, name: str) -> UUID:
    """Deterministic stream id for a named record, e.g. ``named_stream("officer", "PS-1001")``."""
    return uuid5(STREAM_NAMESPACE, f"{kind}:{name}")


class Governed(BaseAggregate[UUID]):
    """Aggregate whose every event is attributable to an officer and dated on both time axes."""

    @staticmethod
    def create_id(*_: Any, **__: Any) -> UUID:
        """A stream id in creation order (entries, deployments); named records override this."""
        return uuid7()

    class Event(AggregateEvent):
        """Base event: who acted, and when the fact holds."""

        actor: str
        effective_at: datetime

        @staticmethod
        def create_timestamp() -> datetime:
            """recorded_at comes from the system clock, never from the officer."""
            return clock.now()
