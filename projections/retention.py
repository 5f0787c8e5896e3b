"""What a retention sweep must do now: read from the projection, so finding it is cheap."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from governance.application import WatchlistApp
from governance.domain.policy import PolicyDocument
from governance.times import to_micros
from projections.runner import catch_up, projection_store


@dataclass
class Due:
    """Entries due for each sweep action, in the order they were proposed."""

    expire: list[str] = field(default_factory=list)
    review_overdue: list[str] = field(default_factory=list)
    expiring_soon: list[str] = field(default_factory=list)
    erase: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)


def due(app: WatchlistApp, now: datetime, policy: PolicyDocument) -> Due:
    """Entries to expire, overdue for review, expiring soon, and whose personal data is due to go."""
    catch_up(app)
    at = to_micros(now)
    soon = to_micros(now + timedelta(days=policy.expiry_warning_days))
    cutoff = to_micros(now - timedelta(days=policy.retention_days_after_removal))
    found = Due()
    with projection_store(app).reading() as tx:
        for entry_id, status, review_by, expires_at, recorded_left_at, holds, erased in tx.all(
            "SELECT entry_id, status, review_by, expires_at, left_at, holds, erased FROM {t}wl_entries "
            "ORDER BY proposed_position"
        ):
            listed, left_at = status in ("proposed", "active"), recorded_left_at
            if listed and expires_at is not None and expires_at <= at:
                found.expire.append(entry_id)
                left_at, listed = expires_at, False
            if listed and status == "active" and review_by is not None and review_by <= at:
                found.review_overdue.append(entry_id)
            if listed and expires_at is not None and at < expires_at <= soon:
                found.expiring_soon.append(entry_id)
            if not listed and not erased and left_at is not None and left_at <= cutoff:
                (found.held if holds else found.erase).append(entry_id)
    return found
