"""The system clock, in one place so tests can freeze it.

``recorded_at`` of every event comes from here (the eventsourcing event timestamp). Production code
reads the real UTC clock; tests use ``frozen(...)`` to pin it. There is deliberately no environment
variable that moves the clock: the order of knowledge is the store position, and recorded times
should come from the machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_frozen: list[datetime] = []


def now() -> datetime:
    """The current instant in UTC (microsecond precision)."""
    if _frozen:
        return _frozen[-1]
    return datetime.now(UTC)


@contextmanager
def frozen(at: datetime) -> Iterator[FrozenClock]:
    """Pin ``now()`` to ``at`` (which must be timezone-aware) until the block ends."""
    if at.tzinfo is None:
        raise ValueError("a frozen clock needs an aware datetime")
    _frozen.append(at.astimezone(UTC))
    try:
        yield FrozenClock()
    finally:
        _frozen.pop()


class FrozenClock:
    """Handle for moving a frozen clock forward inside a ``frozen`` block."""

    def advance(self, delta: timedelta) -> datetime:
        """Move the frozen clock by ``delta`` and return the new instant."""
        _frozen[-1] = _frozen[-1] + delta
        return _frozen[-1]

    def set(self, at: datetime) -> None:
        """Set the frozen clock to ``at``."""
        _frozen[-1] = at.astimezone(UTC)
