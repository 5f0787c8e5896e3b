"""``WatchlistApp``: the one eventsourcing Application every command goes through."""

from __future__ import annotations

from governance.access import AccessLog
from governance.officer_commands import OfficerCommands
from governance.retention_commands import RetentionCommands


class WatchlistApp(RetentionCommands, OfficerCommands, AccessLog):
    """The watchlist governance store: officers, entries, and verified reads."""

    name = "watchlist"
