"""The one judge: was an entry current and justified at instant T, as known at store position R?

``judge`` does no I/O. It reads the entries' record through an ``EntryHistory``: the verified event
store (``governance.services.stored_history``, used by the compile gate and go-live check) or the
projection tables (``projections.judging``, used by ``watchlist inclusion`` and reconstruction).
It applies ``governance.domain.justification.assess`` and cites the facts the verdict rests on, so
every answer at (T, R) is worked out by this one function whichever record it is read from.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from governance.domain.facts import EntryState, lapsed
from governance.domain.justification import Assessment, assess
from governance.domain.policy import PolicyDocument
from governance.domain.vocabulary import Category
from governance.times import format_micros

NOTHING_KNOWN = EntryState()


@dataclass(frozen=True)
class Basis:
    """What entries are judged against: the instant, the knowledge position, the policy then."""

    at: datetime
    known_at: int
    policy_version: int
    policy: PolicyDocument
    permitted: frozenset[Category] | None


class Place(NamedTuple):
    """Where a fact was recorded; times are UTC microseconds (``governance.times.to_micros``)."""

    position: int
    actor: str
    kind: str
    effective_at: int
    recorded_at: int


class EntryHistory(Protocol):
    """Entries' recorded facts, read as they were known at a store position.

    Each method answers for many entries at once, so an adapter over a database can answer in a
    few queries however many entries are judged.
    """

    def states(
        self, entry_ids: Sequence[str], at: datetime, known_at: int
    ) -> Mapping[str, EntryState]:
        """Each entry's state at ``at`` from its facts known at ``known_at``, as
        ``governance.domain.facts.timeline`` folds them (expiry not derived); absent when the
        entry had not been proposed by ``at`` as far as was known."""
        ...

    def versions(self, entry_ids: Sequence[str], known_at: int) -> Mapping[str, int]:
        """Each entry's latest version recorded at or before ``known_at`` (absent: none)."""
        ...

    def revoked(self, officer_ids: Sequence[str], at: datetime, known_at: int) -> Collection[str]:
        """Those of the officers whose revocation, in effect by ``at``, was recorded by ``known_at``."""
        ...

    def places(
        self, facts: Sequence[tuple[str, int]], known_at: int
    ) -> Mapping[tuple[str, int], Place]:
        """Where each (entry, version) fact recorded at or before ``known_at`` was recorded."""
        ...


@dataclass(frozen=True)
class Judgement:
    """One entry judged at T as known at R: its version then, its state, the verdict, the evidence."""

    entry_id: str
    version: int
    state: EntryState
    assessment: Assessment
    evidence: list[dict[str, Any]]  # the facts relied on; their instants as RFC 3339 text


def judge(history: EntryHistory, entry_ids: Sequence[str], on: Basis) -> dict[str, Judgement]:
    """Each entry judged at ``on.at`` as known at ``on.known_at``, under ``on``'s policy.

    An entry nothing was known about is judged on an empty state (``not_proposed``). Entries often
    share a state (and always share the basis), so each distinct state is assessed once, and each
    evidence item is built once and shared by every judgement that cites it.
    """
    states = history.states(entry_ids, on.at, on.known_at)
    versions = history.versions(entry_ids, on.known_at)
    authorisers = sorted({s.authorised_by for s in states.values() if s.authorised_by is not None})
    revoked = set(history.revoked(authorisers, on.at, on.known_at)) if authorisers else set()
    cited = {(e, v) for e, s in states.items() for _, versions_ in s.evidence for v in versions_}
    places = history.places(sorted(cited), on.known_at) if cited else {}
    assessments: dict[tuple[EntryState, bool], Assessment] = {}
    items: dict[tuple[str, str, int], dict[str, Any]] = {}
    found: dict[str, Judgement] = {}
    for entry_id in entry_ids:
        state = lapsed(states.get(entry_id, NOTHING_KNOWN), on.at)
        key = (state, state.authorised_by in revoked)
        assessment = assessments.get(key)
        if assessment is None:
            assessment = assessments[key] = assess(state, on.at, on.policy, on.permitted, key[1])
        evidence = [
            cite(items, name, entry_id, version, places[(entry_id, version)])
            for name, cited_versions in sorted(assessment.evidence.items())
            for version in cited_versions
            if (entry_id, version) in places
        ]
        found[entry_id] = Judgement(
            entry_id, versions.get(entry_id, 0), state, assessment, evidence
        )
    return found


def cite(
    items: dict[tuple[str, str, int], dict[str, Any]],
    name: str,
    entry_id: str,
    version: int,
    place: Place,
) -> dict[str, Any]:
    """The evidence item citing one fact as ``name``: its stream, version, place and RFC 3339 times."""
    key = (name, entry_id, version)
    found = items.get(key)
    if found is None:
        effective_at = format_micros(place.effective_at)
        found = items[key] = {
            "fact": name,
            "stream": entry_id,
            "version": version,
            "position": place.position,
            "actor": place.actor,
            "type": place.kind,
            "effective_at": effective_at,
            "recorded_at": effective_at
            if place.recorded_at == place.effective_at
            else format_micros(place.recorded_at),
        }
    return found
