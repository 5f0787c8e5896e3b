"""Every aggregate and event type the store may hold, by stable topic.

Decoding only ever looks topics up here: a stored topic is never imported by name, so a tampered
row cannot make the reader load arbitrary code.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.utils import get_topic

from governance.domain.consultation import Consultation, Disclosure
from governance.domain.deployment import Deployment
from governance.domain.entry import Entry
from governance.domain.officer import Officer
from governance.domain.origin import Origin
from governance.domain.policy import PolicyVersion
from governance.domain.retention import Retention, SweepRun

AGGREGATES: tuple[type[Any], ...] = (
    Origin,
    Officer,
    Entry,
    Consultation,
    Disclosure,
    PolicyVersion,
    Deployment,
    Retention,
    SweepRun,
)


def _event_classes() -> dict[str, type[Any]]:
    found: dict[str, type[Any]] = {}
    for aggregate in AGGREGATES:
        for name, value in vars(aggregate).items():
            if (
                name != "Event"
                and isinstance(value, type)
                and issubclass(value, CanMutateAggregate)
                and getattr(value, "TOPIC", None)
            ):
                found[get_topic(value)] = value
    return found


EVENT_TYPES: dict[str, type[Any]] = _event_classes()


def topic_of(cls: type[Any]) -> str:
    """The stable topic of an event class."""
    return get_topic(cls)
