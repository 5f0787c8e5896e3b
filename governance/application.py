"""``WatchlistApp``: the one eventsourcing Application every command goes through."""

from __future__ import annotations

from governance.entry_commands import EntryCommands
from governance.officer_commands import OfficerCommands


class WatchlistApp(EntryCommands, OfficerCommands):
    """The watchlist governance store: officers, entries, and verified reads."""

    name = "watchlist"
