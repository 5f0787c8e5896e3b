"""``WatchlistApp``: the one eventsourcing Application every command goes through."""

from __future__ import annotations

from governance.services.disclosures import AccessLog
from governance.services.officers import OfficerCommands
from governance.services.retention import RetentionCommands


class WatchlistApp(RetentionCommands, OfficerCommands, AccessLog):
    """The watchlist governance store: officers, entries, and verified reads."""

    name = "watchlist"
