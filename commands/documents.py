"""The documents the CLI shows for an entry, an officer and a history row (see docs/cli.md).

Presentation only: each turns a record into the plain data the command-line contract names, for
``--json`` or a table. The point-in-time answers are not here; they come from ``projections``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from governance.domain.vocabulary import Status
from governance.times import format_instant

if TYPE_CHECKING:  # only named in annotations
    from governance.domain.entry import Entry
    from governance.domain.registry import OfficerState
    from governance.services.entries import HistoryItem


def instant(value: datetime | None) -> str | None:
    """An instant as RFC 3339 UTC text, or None."""
    return None if value is None else format_instant(value)


def entry_view(entry: Entry, now: datetime) -> dict[str, Any]:
    """The governance record of an entry as it stands at ``now``, without the subject.

    An entry whose expiry has passed shows as ``expired`` even before a sweep records it.
    """
    state = entry.state_at(now)
    every = entry.state
    return {
        "entry_id": str(entry.id),
        "status": (state.status or every.status or Status.PROPOSED).value,
        "category": entry.category.value,
        "review_by": instant(every.review_by),
        "expires_at": instant(every.expires_at),
        "proposed_by": every.proposed_by,
        "authorised_by": every.authorised_by,
        "source_status": every.source_status.value if every.source_status else None,
        "source_verified_at": instant(every.source_verified_at),
        "vulnerable": every.vulnerable,
        "minor": every.minor,
        "removal_reason": every.removal_reason.value if every.removal_reason else None,
        "removed_at": instant(every.removed_at),
        "extension_count": every.extension_count,
        "awaiting_confirmation": list(every.pending),
    }


def officer_view(state: OfficerState) -> dict[str, Any]:
    """An officer's current standing."""
    return {
        "officer_id": state.officer_id,
        "name": state.name,
        "rank": state.rank.value,
        "roles": sorted(r.value for r in state.roles),
        "key_id": state.key_id,
        "status": state.status,
    }


def history_view(item: HistoryItem) -> dict[str, Any]:
    """One row of ``entry history``: the event, where it is, and whether it verified."""
    record, envelope = item.checked.record, item.checked.envelope
    return {
        "version": record.stored.originator_version,
        "type": record.stored.topic.rpartition(".")[2],
        "recorded_at": envelope.statement.get("recorded_at") if envelope else None,
        "effective_at": envelope.statement.get("effective_at") if envelope else None,
        "actor": envelope.actor if envelope else None,
        "position": record.position,
        "signature": "valid" if item.checked.valid else "invalid",
        "problems": list(item.checked.problems),
    }
