"""Judging entries at an instant as known at a store position, inside one projection transaction.

A view at (T, R) reads the one interval row valid at T and known at R (indexed by entry and
knowledge position, so its cost does not grow with the store), the policy version in force at T as
known at R, and whether the authoriser had been revoked by T; then applies
``governance.domain.justification.assess``, the same rule the compile gate uses. These functions never
catch the projection up: their callers do (``projections.queries``) or are the projection itself
(``projections.deployments``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from governance.domain.facts import EntryState
from governance.domain.justification import Assessment, assess
from governance.domain.policy import DEFAULT, PolicyDocument
from governance.domain.vocabulary import Category
from governance.times import format_micros, to_micros
from projections.intervals import decode_state
from projections.storage import Tx

CHUNK = 500


@dataclass(frozen=True)
class View:
    """One entry judged at T as known at R."""

    entry_id: str
    version: int
    state: EntryState
    assessment: Assessment
    evidence: list[dict[str, Any]]  # the facts relied on; their instants as RFC 3339 text


@dataclass(frozen=True)
class Basis:
    """What a view is judged against: the instant, the knowledge position, the policy then."""

    at: datetime
    known_at: int
    policy_version: int
    policy: PolicyDocument
    permitted: frozenset[Category] | None


def basis(
    tx: Tx, at: datetime, known_at: int, permitted: Iterable[Category] | None = None
) -> Basis:
    """The policy version in force at ``at`` as known at ``known_at``."""
    row = tx.one(
        "SELECT version, document FROM {t}wl_policies WHERE position <= ? AND effective_at <= ? "
        "ORDER BY effective_at DESC, version DESC LIMIT 1",
        (known_at, to_micros(at)),
    )
    policy = DEFAULT if row is None else PolicyDocument.model_validate(json.loads(row[1]))
    return Basis(
        at,
        known_at,
        0 if row is None else int(row[0]),
        policy,
        None if permitted is None else frozenset(permitted),
    )


def views(tx: Tx, entry_ids: Sequence[str], on: Basis) -> dict[str, View]:
    """The entries' views at ``on.at`` as known at ``on.known_at`` (absent: not proposed by then).

    Each view's evidence holds only the facts its verdict rests on, read from the covering index
    in one query per chunk of entries; an evidence item is built once and shared by every view
    that cites it.
    """
    found: dict[str, View] = {}
    judged = Judged(tx)
    items: dict[tuple[str, str, int], dict[str, Any]] = {}
    for start in range(0, len(entry_ids), CHUNK):
        chunk = list(entry_ids[start : start + CHUNK])
        texts = interval_states(tx, chunk, on)
        known = known_versions(tx, chunk, on.known_at)
        decided = {entry_id: judged(texts.get(entry_id), on) for entry_id in chunk}
        cited = {
            (entry_id, v)
            for entry_id, (_, verdict) in decided.items()
            for versions in verdict.evidence.values()
            for v in versions
        }
        places = evidence_places(tx, sorted(cited))
        for entry_id, (state, verdict) in decided.items():
            evidence = []
            for name, versions in sorted(verdict.evidence.items()):
                for v in versions:
                    place = places.get((entry_id, v))
                    if place is not None and place[0] <= on.known_at:
                        evidence.append(item(items, name, entry_id, v, place))
            found[entry_id] = View(entry_id, known.get(entry_id, 0), state, verdict, evidence)
    return found


def verdict(view: View) -> dict[str, Any]:
    """``listed``, ``current``, ``justified``, ``reasons`` and ``evidence`` of one view."""
    return {
        "listed": view.assessment.listed,
        "current": view.assessment.current,
        "justified": view.assessment.justified,
        "reasons": list(view.assessment.reasons),
        "version": view.version,
        "evidence": view.evidence,
    }


def rejudged(
    tx: Tx,
    entry_ids: Sequence[str],
    authorisers: Mapping[str, str | None],
    was: Basis,
    on: Basis,
) -> dict[str, View]:
    """The views on ``on`` of those entries whose view may differ from their view on ``was``.

    ``was`` is the same instant with earlier knowledge; ``authorisers`` names who had authorised
    each entry as known on ``was``. A view can differ only where something was learned in between:
    a fact of the entry recorded after ``was.known_at``, a different policy version in force at the
    instant, or the revocation of the entry's authoriser by then. Every other entry's earlier view
    is the answer as it stands, so only these are judged again.
    """
    if (was.at, was.policy_version, was.permitted) != (on.at, on.policy_version, on.permitted):
        return views(tx, entry_ids, on)
    rows = tx.all(
        "SELECT officer_id FROM {t}wl_revocations WHERE position > ? AND position <= ? "
        "AND revoked_at <= ?",
        (was.known_at, on.known_at, to_micros(on.at)),
    )
    late_revocations = {str(r[0]) for r in rows}
    again = learned_about(tx, entry_ids, was.known_at, on.known_at)
    if late_revocations:
        again |= {e for e in entry_ids if authorisers.get(e) in late_revocations}
    return views(tx, sorted(again), on)


def learned_about(tx: Tx, entry_ids: Sequence[str], after: int, upto: int) -> set[str]:
    """The entries with a fact recorded after position ``after``, up to ``upto``.

    When few entries have changed since ``after`` (the usual case for a recent deployment), they
    are found by the index of each entry's last change; otherwise by seeking each entry's facts.
    """
    wanted = set(entry_ids)
    changed = tx.all(
        "SELECT entry_id FROM {t}wl_entries WHERE last_position > ? LIMIT ?",
        (after, len(wanted) + 1),
    )
    if len(changed) <= len(wanted):  # every entry changed since ``after``: a superset is harmless
        return {str(r[0]) for r in changed} & wanted
    found: set[str] = set()
    for start in range(0, len(entry_ids), CHUNK):
        chunk = entry_ids[start : start + CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = tx.all(  # only placeholders are interpolated
            f"SELECT DISTINCT entry_id FROM {{t}}wl_entry_facts WHERE entry_id IN ({marks}) "  # noqa: S608
            "AND position > ? AND position <= ?",
            (*chunk, after, upto),
        )
        found.update(str(r[0]) for r in rows)
    return found


def known_versions(tx: Tx, entry_ids: Sequence[str], known_at: int) -> dict[str, int]:
    """Each entry's latest version recorded at or before position ``known_at``."""
    marks = ",".join("?" * len(entry_ids))
    rows = tx.all(  # only placeholders are interpolated
        f"SELECT entry_id, MAX(version) FROM {{t}}wl_entry_facts WHERE entry_id IN ({marks}) "  # noqa: S608
        "AND position <= ? GROUP BY entry_id",
        (*entry_ids, known_at),
    )
    return {str(r[0]): int(r[1]) for r in rows}


def interval_states(tx: Tx, entry_ids: Sequence[str], on: Basis) -> dict[str, str]:
    """The encoded state of each entry valid at ``on.at`` as known at ``on.known_at``."""
    marks = ",".join("?" * len(entry_ids))
    rows = tx.all(  # only placeholders are interpolated
        f"SELECT entry_id, state FROM {{t}}wl_entry_intervals WHERE entry_id IN ({marks}) "  # noqa: S608
        "AND known_from <= ? AND known_to > ? AND valid_from <= ? AND valid_to > ?",
        (*entry_ids, on.known_at, on.known_at, to_micros(on.at), to_micros(on.at)),
    )
    return {str(r[0]): str(r[1]) for r in rows}


class Judged:
    """Decoded states and their assessments, each worked out once per distinct input.

    Views of many entries on two bases share most states (an entry unchanged since the earlier
    basis has the same interval row in both), so decoding and judging are memoised.
    """

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.states: dict[str | None, EntryState] = {None: EntryState()}
        self.revocations: dict[tuple[str, datetime, int], bool] = {}
        self.assessments: dict[tuple[Any, ...], Assessment] = {}

    def __call__(self, text: str | None, on: Basis) -> tuple[EntryState, Assessment]:
        state = self.states.get(text)
        if state is None:
            state = self.states[text] = decode_state(str(text))
        officer = state.authorised_by
        was_revoked = False
        if officer is not None:
            key = (officer, on.at, on.known_at)
            if key not in self.revocations:
                self.revocations[key] = revoked(self.tx, officer, on.at, on.known_at)
            was_revoked = self.revocations[key]
        memo = (text, on.at, on.policy_version, on.permitted, was_revoked)
        verdict = self.assessments.get(memo)
        if verdict is None:
            verdict = assess(state, on.at, on.policy, on.permitted, was_revoked)
            self.assessments[memo] = verdict
        return state, verdict


#: Where a fact sits: position, actor, type, effective and recorded times (UTC microseconds).
Place = tuple[int, str, str, int, int]


def evidence_places(tx: Tx, facts: Sequence[tuple[str, int]]) -> dict[tuple[str, int], Place]:
    """Where each (entry, version) fact sits, from the covering index."""
    found: dict[tuple[str, int], Place] = {}
    for start in range(0, len(facts), 4 * CHUNK):
        part = facts[start : start + 4 * CHUNK]
        pairs = ",".join("(?, ?)" for _ in part)
        # Only placeholders are interpolated. The join seeks each entry in the covering index
        # (``+`` keeps SQLite from choosing the primary key, which would visit the fact rows).
        rows = tx.all(
            f"WITH wanted (entry_id, version) AS (VALUES {pairs}) "  # noqa: S608
            "SELECT f.entry_id, f.version, f.position, f.actor, f.kind, f.effective_at, f.recorded_at "
            "FROM wanted JOIN {t}wl_entry_facts f "
            "ON f.entry_id = wanted.entry_id AND +f.version = wanted.version",
            tuple(x for pair in part for x in pair),
        )
        for r in rows:
            found[(str(r[0]), int(r[1]))] = (int(r[2]), str(r[3]), str(r[4]), int(r[5]), int(r[6]))
    return found


def item(
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
        position, actor, kind, effective, recorded = place
        effective_at = format_micros(effective)
        found = items[key] = {
            "fact": name,
            "stream": entry_id,
            "version": version,
            "position": position,
            "actor": actor,
            "type": kind,
            "effective_at": effective_at,
            "recorded_at": effective_at if recorded == effective else format_micros(recorded),
        }
    return found


def revoked(tx: Tx, officer_id: str, at: datetime, known_at: int) -> bool:
    """Whether the officer had been revoked by ``at``, as known at ``known_at``."""
    row = tx.one(
        "SELECT 1 FROM {t}wl_revocations WHERE officer_id = ? AND position <= ? AND revoked_at <= ?",
        (officer_id, known_at, to_micros(at)),
    )
    return row is not None


def knowledge_points(tx: Tx, entry_id: str, after: int, upto: int) -> list[int]:
    """Positions after ``after`` (up to ``upto``) at which this entry's record changed."""
    rows = tx.all(
        "SELECT position FROM {t}wl_entry_facts WHERE entry_id = ? AND position > ? AND position <= ? "
        "ORDER BY position",
        (entry_id, after, upto),
    )
    return [int(r[0]) for r in rows]
