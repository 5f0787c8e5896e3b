"""Turning an entry's facts into bitemporal intervals: pure, so a rebuild gives identical rows.

For each knowledge point (a version of the entry's stream, at a store position), the entry's valid
timeline is cut at every effective time of a fact in force; each piece holds the folded state.
Times are UTC microsecond integers; an open end is ``OPEN``. The state is stored as compact JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from governance.facts import EntryState, Fact, fold, resolve
from governance.times import from_micros, to_micros
from governance.vocabulary import Category, RemovalReason, SourceStatus, Status

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
    """The entry's state over [valid_from, valid_to) as known from one knowledge point."""

    valid_from: int
    valid_to: int
    state: str


def intervals(facts: Sequence[Fact]) -> list[Interval]:
    """The valid-time pieces of an entry as its ``facts`` (all known) say."""
    resolved = resolve(facts)
    live = [r for r in resolved if r.kind != "Pending"]
    proposal = next((r for r in live if r.kind == "Proposed"), None)
    if proposal is None:
        return []
    start = to_micros(proposal.effective_at)
    cuts = sorted({start, *(max(start, to_micros(r.effective_at)) for r in live)})
    pieces = []
    for index, cut in enumerate(cuts):
        end = cuts[index + 1] if index + 1 < len(cuts) else OPEN
        pieces.append(
            Interval(cut, end, encode_state(fold(resolved, from_micros(cut), expire=False)))
        )
    return pieces


def encode_state(state: EntryState) -> str:
    """Compact, deterministic JSON of a state (times as microseconds)."""
    data: dict[str, Any] = {f.name: getattr(state, f.name) for f in fields(state)}
    for name in _TIMES:
        if data[name] is not None:
            data[name] = to_micros(data[name])
    data["evidence"] = {k: list(v) for k, v in sorted(state.evidence.items())}
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
    data["evidence"] = {k: tuple(v) for k, v in data["evidence"].items()}
    data["pending"] = tuple(data["pending"])
    return EntryState(**data)


def micros(value: datetime) -> int:
    """UTC microseconds (re-exported for queries)."""
    return to_micros(value)
