"""Judging entries at an instant as known at a store position, inside one projection transaction.

``ProjectedHistory`` is the ``EntryHistory`` of the projection tables: an entry's state at (T, R) is
the one interval row valid at T and known at R (indexed by entry and knowledge position, so its cost
does not grow with the store), read a chunk of entries per query. ``views`` hands it to the one
judge, ``governance.domain.judging.judge``, which the compile gate uses over the event store. These
functions never catch the projection up: their callers do (``projections.queries``) or are the
projection itself (``projections.deployments``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from governance.domain.facts import EntryState
from governance.domain.judging import Basis, Judgement, Place, judge
from governance.domain.policy import DEFAULT, PolicyDocument
from governance.domain.vocabulary import Category
from governance.times import to_micros
from projections.intervals import decode_state
from projections.storage import Tx

CHUNK = 500


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


def views(tx: Tx, entry_ids: Sequence[str], on: Basis) -> dict[str, Judgement]:
    """The entries judged at ``on.at`` as known at ``on.known_at``, from the projection tables."""
    return judge(ProjectedHistory(tx), entry_ids, on)


def verdict(view: Judgement) -> dict[str, Any]:
    """``listed``, ``current``, ``justified``, ``reasons``, ``version`` and ``evidence`` of one view."""
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
) -> dict[str, Judgement]:
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
    for chunk in chunks(entry_ids, CHUNK):
        marks = ",".join("?" * len(chunk))
        rows = tx.all(  # only placeholders are interpolated
            f"SELECT DISTINCT entry_id FROM {{t}}wl_entry_facts WHERE entry_id IN ({marks}) "  # noqa: S608
            "AND position > ? AND position <= ?",
            (*chunk, after, upto),
        )
        found.update(str(r[0]) for r in rows)
    return found


class ProjectedHistory:
    """``EntryHistory`` over the projection tables, in one transaction: a few queries per chunk.

    States are stored encoded; each distinct text is decoded once for the life of the object.
    """

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.decoded: dict[str, EntryState] = {}

    def states(
        self, entry_ids: Sequence[str], at: datetime, known_at: int
    ) -> dict[str, EntryState]:
        found: dict[str, EntryState] = {}
        for chunk in chunks(entry_ids, CHUNK):
            marks = ",".join("?" * len(chunk))
            rows = self.tx.all(  # only placeholders are interpolated
                f"SELECT entry_id, state FROM {{t}}wl_entry_intervals WHERE entry_id IN ({marks}) "  # noqa: S608
                "AND known_from <= ? AND known_to > ? AND valid_from <= ? AND valid_to > ?",
                (*chunk, known_at, known_at, to_micros(at), to_micros(at)),
            )
            for entry_id, text in rows:
                state = self.decoded.get(text)
                if state is None:
                    state = self.decoded[text] = decode_state(str(text))
                found[str(entry_id)] = state
        return found

    def versions(self, entry_ids: Sequence[str], known_at: int) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in chunks(entry_ids, CHUNK):
            marks = ",".join("?" * len(chunk))
            rows = self.tx.all(  # only placeholders are interpolated
                f"SELECT entry_id, MAX(version) FROM {{t}}wl_entry_facts WHERE entry_id IN ({marks}) "  # noqa: S608
                "AND position <= ? GROUP BY entry_id",
                (*chunk, known_at),
            )
            found.update((str(r[0]), int(r[1])) for r in rows)
        return found

    def revoked(self, officer_ids: Sequence[str], at: datetime, known_at: int) -> set[str]:
        found: set[str] = set()
        for chunk in chunks(officer_ids, CHUNK):
            marks = ",".join("?" * len(chunk))
            rows = self.tx.all(  # only placeholders are interpolated
                f"SELECT DISTINCT officer_id FROM {{t}}wl_revocations WHERE officer_id IN ({marks}) "  # noqa: S608
                "AND position <= ? AND revoked_at <= ?",
                (*chunk, known_at, to_micros(at)),
            )
            found.update(str(r[0]) for r in rows)
        return found

    def places(
        self, facts: Sequence[tuple[str, int]], known_at: int
    ) -> dict[tuple[str, int], Place]:
        """From the covering index, so the fact rows themselves are never visited."""
        found: dict[tuple[str, int], Place] = {}
        for part in chunks(facts, 4 * CHUNK):
            pairs = ",".join("(?, ?)" for _ in part)
            # Only placeholders are interpolated. The join seeks each entry in the covering index
            # (``+`` keeps SQLite from choosing the primary key, which would visit the fact rows).
            rows = self.tx.all(
                f"WITH wanted (entry_id, version) AS (VALUES {pairs}) "  # noqa: S608
                "SELECT f.entry_id, f.version, f.position, f.actor, f.kind, f.effective_at, f.recorded_at "
                "FROM wanted JOIN {t}wl_entry_facts f "
                "ON f.entry_id = wanted.entry_id AND +f.version = wanted.version",
                tuple(x for pair in part for x in pair),
            )
            for entry_id, version, position, actor, kind, effective, recorded in rows:
                if int(position) <= known_at:
                    found[(str(entry_id), int(version))] = Place(
                        int(position), str(actor), str(kind), int(effective), int(recorded)
                    )
        return found


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    """``items`` in consecutive slices of at most ``size`` (to bound each query's placeholders)."""
    return (items[start : start + size] for start in range(0, len(items), size))


def knowledge_points(tx: Tx, entry_id: str, after: int, upto: int) -> list[int]:
    """Positions after ``after`` (up to ``upto``) at which this entry's record changed."""
    rows = tx.all(
        "SELECT position FROM {t}wl_entry_facts WHERE entry_id = ? AND position > ? AND position <= ? "
        "ORDER BY position",
        (entry_id, after, upto),
    )
    return [int(r[0]) for r in rows]
