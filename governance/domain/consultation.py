"""Access logging (DPA 2018 s.62): who saw personal data or took the record out, when, and why.

A consultation (a subject's details shown to an officer) and a disclosure (the record exported to a
recipient) are each their own one-event stream, so logging an access never contends with decisions
on the entry itself. Refused attempts are never logged as accesses: the officer is checked first.
"""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import AggregateCreated, event

from governance.domain.aggregate import Governed


class Consultation(Governed):
    """One recorded consultation of an entry's personal data."""

    TOPIC = "watchlist:Consultation"

    class Recorded(Governed.Event, AggregateCreated):
        """An officer was shown a subject's personal data for a stated purpose."""

        TOPIC = "watchlist:Consultation.Recorded"
        entry_id: str
        purpose: str
        kind: str

    @event(Recorded)
    def __init__(
        self, actor: str, effective_at: datetime, entry_id: str, purpose: str, kind: str
    ) -> None:
        self.entry_id = entry_id
        self.purpose = purpose
        self.kind = kind
        self.officer_id = actor
        self.at = effective_at


class Disclosure(Governed):
    """One recorded disclosure of the record (an export bundle) to a recipient."""

    TOPIC = "watchlist:Disclosure"

    class Recorded(Governed.Event, AggregateCreated):
        """An officer exported the record for a stated purpose, to a recipient."""

        TOPIC = "watchlist:Disclosure.Recorded"
        purpose: str
        recipient: str
        scope: str

    @event(Recorded)
    def __init__(
        self, actor: str, effective_at: datetime, purpose: str, recipient: str, scope: str
    ) -> None:
        self.purpose = purpose
        self.recipient = recipient
        self.scope = scope
        self.officer_id = actor
        self.at = effective_at
