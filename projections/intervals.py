"""Turning an entry's facts into bitemporal intervals: pure, so a rebuild gives identical rows.

For each knowledge point (a version of the entry's stream, at a store position), the entry's valid
timeline is cut at every effective time of a fact in force; each piece holds the folded state.
Times are UTC microsecond integers; an open end is ``OPEN``. The state is stored as compact JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import lru_cache
from typing import Any

from governance.domain.facts import EntryState, Fact, resolve, timeline
from governance.domain.vocabulary import Category, RemovalReason, SourceStatus, Status
from governance.times import from_micros, to_micros

OPEN = 2**62
_TIMES = (
    "proposed_at",
    "authorised_at",
    "review_by",
    "expires_at",
    "last_reviewed_at",
    "source_verified_at",
    "removed_at",
)
_ENUMS: Mapping[str, Any] = {
    "status": Status,
    "category": Category,
    "source_status": SourceStatus,
    "removal_reason": RemovalReason,
}


@dataclass(frozen=True)
class Interval:
    """The entry's state over [valid_from, valid_to), encoded, as known from one knowledge point."""

    valid_from: int
    valid_to: int
    state: str
    decoded: EntryState = field(compare=False, repr=False)


def intervals(facts: Sequence[Fact]) -> list[Interval]:
    """The valid-time pieces of an entry as its ``facts`` (all known) say."""
    steps = timeline(resolve(facts))
    cuts = [to_micros(when) for when, _ in steps]
    return [
        Interval(
            cut, cuts[index + 1] if index + 1 < len(cuts) else OPEN, encode_state(state), state
        )
        for index, (cut, (_, state)) in enumerate(zip(cuts, steps, strict=True))
    ]


_NAMES = tuple(f.name for f in fields(EntryState))


@lru_cache(maxsize=1 << 16)
def encode_state(state: EntryState) -> str:
    """Compact, deterministic JSON of a state (times as microseconds)."""
    data: dict[str, Any] = {name: getattr(state, name) for name in _NAMES}
    for name in _TIMES:
        if data[name] is not None:
            data[name] = to_micros(data[name])
    data["evidence"] = {k: list(v) for k, v in state.evidence}
    data["pending"] = list(state.pending)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def decode_state(text: str) -> EntryState:
    """Inverse of ``encode_state``."""
    data = json.loads(text)
    for name in _TIMES:
        if data[name] is not None:
            data[name] = from_micros(data[name])
    for name, kind in _ENUMS.items():
        if data[name] is not None:
            data[name] = kind(data[name])
    data["evidence"] = tuple(sorted((k, tuple(v)) for k, v in data["evidence"].items()))
    data["pending"] = tuple(data["pending"])
    return EntryState(**data)


def micros(value: datetime) -> int:
    """UTC microseconds (re-exported for queries)."""
    return to_micros(value)
