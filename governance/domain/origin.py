"""The store's founding record: its origin name, first administrator and log key.

The ``Founded`` event is the root of trust of a store. It is signed by the first administrator's
key, which it names, so it verifies on its own; every later event traces back to it through the
officer registry. A witness or a pinned checkpoint is what ties a store to its genuine founding.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import AggregateCreated, event

from governance.domain.aggregate import Governed, named_stream

ORIGIN_STREAM: UUID = named_stream("store", "origin")


class Origin(Governed):
    """The single founding record of a store."""

    TOPIC = "watchlist:Origin"

    @staticmethod
    def create_id(*_: object, **__: object) -> UUID:
        """There is exactly one origin record per store."""
        return ORIGIN_STREAM

    class Founded(Governed.Event, AggregateCreated):
        """The store was created."""

        TOPIC = "watchlist:Origin.Founded"
        origin: str
        admin_officer_id: str
        admin_public_key: str
        log_public_key: str

    @event(Founded)
    def __init__(
        self,
        actor: str,
        effective_at: datetime,
        origin: str,
        admin_officer_id: str,
        admin_public_key: str,
        log_public_key: str,
    ) -> None:
        self.origin = origin
        self.admin_officer_id = admin_officer_id
        self.admin_public_key = admin_public_key
        self.log_public_key = log_public_key
        self.founded_at = effective_at
