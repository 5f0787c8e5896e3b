"""Point-in-time answers from the bitemporal projection.

Every query first catches the projection up with the store, then judges inside one read transaction
with ``projections.judging``, the same rule the compile gate uses.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from governance.application import WatchlistApp
from governance.domain.judging import Basis, Judgement
from governance.errors import NotFound
from governance.times import to_micros
from projections.judging import basis, views
from projections.runner import catch_up, projection_store


def current_position(app: WatchlistApp) -> int:
    """Catch up and return the last projected position (the store as known now)."""
    catch_up(app)
    return projection_store(app).position()


def inclusion(
    app: WatchlistApp, entry_id: UUID, at: datetime, known_at: int | None
) -> tuple[Basis, Judgement]:
    """``watchlist inclusion``: the entry at ``at`` as known at ``known_at`` (default: now).

    The events the answer rests on are read back from the store and verified.
    """
    now = current_position(app)
    with projection_store(app).reading() as tx:
        if tx.one("SELECT 1 FROM {t}wl_entry_facts WHERE entry_id = ?", (str(entry_id),)) is None:
            raise NotFound(f"entry: {entry_id} not found")
        on = basis(tx, at, now if known_at is None else min(known_at, now))
        view = views(tx, [str(entry_id)], on)[str(entry_id)]
    if view.evidence:
        app.signed_events.read_verified(entry_id, lte=max(e["version"] for e in view.evidence))
    return on, view


def candidates(app: WatchlistApp, left_since: datetime) -> list[str]:
    """Entries a deployment's gate should judge: on the list now, or off it only since ``left_since``."""
    catch_up(app)
    with projection_store(app).reading() as tx:
        rows = tx.all(
            "SELECT entry_id FROM {t}wl_entries WHERE status IN ('proposed', 'active') OR left_at >= ? "
            "ORDER BY proposed_position",
            (to_micros(left_since),),
        )
    return [str(r[0]) for r in rows]


def position_at(app: WatchlistApp, at: datetime) -> int:
    """The last store position recorded at or before ``at`` (what the system knew then)."""
    catch_up(app)
    with projection_store(app).reading() as tx:
        row = tx.one(
            "SELECT MAX(position) FROM {t}wl_clock WHERE recorded_at <= ?", (to_micros(at),)
        )
    return 0 if row is None or row[0] is None else int(row[0])
