"""``watchlist inclusion``: was this entry listed, current and justified at T, as known at R?

R is given as "now", an instant (the last position recorded by then), or a deployment (its
compile basis: what the system knew when it built that watchlist).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from governance.application import WatchlistApp
from governance.domain.judging import Basis, Judgement
from governance.errors import InvalidInput
from projections.queries import inclusion, position_at


@dataclass(frozen=True)
class KnownAt:
    """What the answer is as known at: now (both None), an instant, or a deployment's basis."""

    instant: datetime | None = None
    deployment_id: UUID | None = None


def answer_inclusion(
    app: WatchlistApp, entry_id: UUID, at: datetime, known: KnownAt
) -> tuple[Basis, Judgement]:
    """The entry at ``at`` as known at ``known``, with the events it rests on verified."""
    position: int | None = None
    if known.deployment_id is not None:
        compiled = app.deployments.get(known.deployment_id).compilation
        if compiled is None:
            raise InvalidInput("known-at: that deployment was never compiled, so it has no basis")
        position = int(compiled["basis"])
    elif known.instant is not None:
        position = position_at(app, known.instant)
    return inclusion(app, entry_id, at, position)
