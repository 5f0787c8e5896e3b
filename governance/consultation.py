"""Consultations of personal data: who saw a subject's details, when, and why (DPA 2018 s.62).

Each reveal is its own one-event stream, so logging a consultation never contends with decisions
on the entry itself.
"""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import AggregateCreated, event

from governance.aggregate import Governed


class Consultation(Governed):
    """One recorded consultation or disclosure of an entry's personal data."""

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
