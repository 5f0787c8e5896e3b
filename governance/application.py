"""``WatchlistApp``: the one eventsourcing Application every command goes through."""

from __future__ import annotations

from governance.deployment_commands import DeploymentCommands
from governance.officer_commands import OfficerCommands


class WatchlistApp(DeploymentCommands, OfficerCommands):
    """The watchlist governance store: officers, entries, and verified reads."""

    name = "watchlist"
