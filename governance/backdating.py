"""Bounds on how far a fact's ``effective_at`` may sit from when it is recorded.

Architecture "Time": at most 5 minutes after recorded_at; up to 24 hours before needs nothing; beyond
that needs a reason and a source reference; beyond 90 days a second officer as well.
"""

from __future__ import annotations

from datetime import datetime

from governance import defaults
from governance.errors import InvalidInput, RuleViolation


def check_effective_at(
    field: str,
    effective_at: datetime,
    recorded_at: datetime,
    reason: str | None,
    source_ref: str | None,
    reason_option: str = "--backdate-reason",
    source_option: str | None = "--source-ref",
) -> None:
    """Refuse an ``effective_at`` outside the backdating bounds.

    ``reason_option`` and ``source_option`` name the options that carry the reason and the source
    reference in the calling command (``source_option`` None: the command has its own reference).
    """
    if effective_at - recorded_at > defaults.MAX_FUTURE_SKEW:
        raise InvalidInput(
            f"{field}: {effective_at.isoformat()} is in the future; a fact can be recorded at most "
            "5 minutes before it takes effect"
        )
    lag = recorded_at - effective_at
    if lag <= defaults.FREE_BACKDATING:
        return
    missing = []
    if not (reason and reason.strip()):
        missing.append(reason_option)
    if source_option is not None and not (source_ref and source_ref.strip()):
        missing.append(source_option)
    if missing:
        raise InvalidInput(
            f"{field}: more than 24 hours in the past; a late record needs {' and '.join(missing)}"
        )
    if lag > defaults.MAX_BACKDATING_WITHOUT_SECOND_OFFICER:
        raise RuleViolation(
            f"{field}: more than 90 days in the past; a record that late needs a second officer's "
            "countersignature, which this store does not yet accept"
        )
