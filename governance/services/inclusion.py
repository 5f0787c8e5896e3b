"""``watchlist inclusion``: was this entry listed, current and justified at T, as known at R?

R is given as "now", an instant (the last position recorded by then), or a deployment (its
compile basis: what the system knew when it built that watchlist). The verdict is the one judge's
over the entry's verified events and the signed policy version in force; the projection only finds
R, and its rows for the entry and the policy are checked against the events (a row that disagrees
is an integrity failure naming the table and the row).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from governance.application import WatchlistApp
from governance.domain.judging import Basis, Judgement, judge
from governance.errors import IntegrityFailure, InvalidInput
from governance.services.projection_check import check_entry, check_policies
from governance.services.stored_history import StoredHistory
from projections.judging import basis
from projections.queries import current_position, position_at
from projections.runner import projection_store


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
    now = current_position(app)  # catches the projection up, refusing one ahead of the log
    known_at = now if position is None else min(position, now)
    in_force = app.policies.at(at, known_at)
    on = Basis(at, known_at, in_force.version, in_force.document, None)
    checked = app.signed_events.read_verified(entry_id)  # every event, read and verified once
    view = judge(StoredHistory(app, {str(entry_id): checked}), [str(entry_id)], on)[str(entry_id)]
    store = projection_store(app)
    with store.reading() as tx:
        failures = check_entry(app, tx, str(entry_id), now, checked)
        projected = basis(tx, at, known_at)
        if (projected.policy_version, projected.policy) != (on.policy_version, on.policy):
            failures += check_policies(app, tx, now)
    if failures:
        raise IntegrityFailure(failures)
    return on, view
