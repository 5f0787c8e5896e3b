"""Small validation rules shared by entry commands: dates in range, justifications present."""

from __future__ import annotations

from datetime import datetime, timedelta

from governance.domain.policy import PolicyDocument
from governance.errors import InvalidInput


def check_dates(
    review_by: datetime,
    expires_at: datetime,
    now: datetime,
    interval: timedelta,
    policy: PolicyDocument,
) -> None:
    """review_by and expires_at must be in the future, in order, and within their maximums."""
    problems = []
    if review_by <= now:
        problems.append("review_by: must be in the future")
    elif review_by - now > interval:
        problems.append(f"review_by: must be within {interval.days} days for this entry")
    if expires_at <= now:
        problems.append("expires_at: must be in the future")
    elif expires_at - now > policy.max_entry_lifetime:
        problems.append(f"expires_at: must be within {policy.max_entry_lifetime_days} days")
    if review_by > expires_at:
        problems.append("review_by: must not be later than expires_at")
    if problems:
        raise InvalidInput(problems)


def check_text(field: str, value: str) -> None:
    """A free-text justification must be present."""
    if not value or not value.strip():
        raise InvalidInput(f"{field}: is required and cannot be blank (missing_rationale)")
