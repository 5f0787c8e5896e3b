"""Bounds on how far a fact's ``effective_at`` may sit from when it is recorded.

Architecture "Time": at most 5 minutes after recorded_at; up to 24 hours before needs nothing; beyond
that needs a reason and a source reference; beyond 90 days a second officer must confirm it
before it counts. The bounds come from the policy in force (``governance.domain.policy``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from governance.domain.policy import PolicyDocument
from governance.errors import InvalidInput


def check_effective_at(
    field: str,
    effective_at: datetime,
    recorded_at: datetime,
    reason: str | None,
    source_ref: str | None,
    policy: PolicyDocument,
    reason_option: str = "--backdate-reason",
    source_option: str | None = "--source-ref",
) -> bool:
    """Refuse an ``effective_at`` outside the bounds; return True when a second officer must confirm.

    ``reason_option`` and ``source_option`` name the options that carry the reason and the source
    reference in the calling command (``source_option`` None: the command has its own reference).
    """
    if effective_at - recorded_at > timedelta(minutes=policy.max_future_skew_minutes):
        raise InvalidInput(
            f"{field}: {effective_at.isoformat()} is in the future; a fact can be recorded at most "
            f"{policy.max_future_skew_minutes} minutes before it takes effect"
        )
    lag = recorded_at - effective_at
    if lag <= timedelta(hours=policy.free_backdating_hours):
        return False
    missing = []
    if not (reason and reason.strip()):
        missing.append(reason_option)
    if source_option is not None and not (source_ref and source_ref.strip()):
        missing.append(source_option)
    if missing:
        raise InvalidInput(
            f"{field}: more than {policy.free_backdating_hours} hours in the past; "
            f"a late record needs {' and '.join(missing)}"
        )
    return lag > timedelta(days=policy.second_officer_backdating_days)
