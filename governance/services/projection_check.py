"""Checking the projection against the verified events: the projection is an index, never evidence.

The projection tables are not signed. Every answer that reads them is checked here against the
events it rests on, read back and verified (signature, hash chain, position): an entry's fact and
interval rows and its row in ``wl_entries`` are worked out again from its verified events, exactly
as the projection's handlers write them, and the policy rows from the signed policy versions. Any
difference is an integrity failure naming the table and the row; it never changes an answer.
``audit verify`` runs the same checks over every entry (or those changed since a checkpoint).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from contextlib import suppress
from typing import Any
from uuid import UUID

from governance.application import WatchlistApp
from governance.domain.facts import Fact
from governance.domain.judging import Basis, judge
from governance.domain.policy import PolicyDocument
from governance.errors import Failure, IntegrityFailure, InvalidInput, NotFound
from governance.integrity.checked import Checked
from governance.services.stored_history import PROPOSED, StoredHistory
from governance.times import from_micros, to_micros
from projections.batch import encode
from projections.deployments import packed, row
from projections.handlers import _HEADER, _LEFT
from projections.intervals import OPEN, intervals
from projections.judging import verdict
from projections.runner import check_reached, projection_store
from projections.storage import Tx

PROJECTION = "projection"


def disagrees(table: str, row: str, entry_id: str | None = None) -> Failure:
    """A projection row that the verified events do not bear out."""
    return Failure(
        entry_id or PROJECTION,
        None,
        None,
        f"projection table {table} row {row} disagrees with the verified events",
    )


def expected_rows(
    app: WatchlistApp, entry_id: str, checked: Sequence[Checked], upto: int
) -> dict[str, set[tuple[Any, ...]]]:
    """The rows the projection's handlers write for this entry from its verified events up to
    position ``upto``: facts, intervals (bitemporal, as ``projections.handlers.project_entry``
    closes and opens them) and the entry's current row (without the retention counts)."""
    facts: list[Fact] = []
    fact_rows: set[tuple[Any, ...]] = set()
    open_rows: dict[tuple[int, int, str], int] = {}
    made: dict[tuple[int, int], list[Any]] = {}
    current: tuple[Any, ...] | None = None
    first: int | None = None
    for item in checked:
        position = item.record.position
        if position > upto or item.envelope is None:
            continue
        event = app.verifier.to_event(item.envelope)
        version = item.record.stored.originator_version
        kind = item.record.stored.topic.rpartition(".")[2]
        data = {k: v for k, v in vars(event).items() if k not in _HEADER}
        fact_rows.add((
            entry_id, version, position, kind, to_micros(event.effective_at),
            to_micros(event.timestamp), event.actor, encode(app, data),
        ))  # fmt: skip
        facts.append(Fact(version, kind, event.effective_at, event.actor, data))
        timeline = intervals(facts)
        pieces = {(p.valid_from, p.valid_to, p.state) for p in timeline}
        for key in [k for k in open_rows if k not in pieces]:
            made[(open_rows.pop(key), key[0])][0] = position
        for key in pieces - open_rows.keys():
            open_rows[key] = position
            made[(position, key[0])] = [OPEN, key[1], key[2]]
        first = position if first is None else first
        if timeline:
            state = timeline[-1].decoded
            status = state.status.value if state.status else "proposed"
            left = getattr(state, _LEFT[status]) if status in _LEFT else None
            current = (
                entry_id, status, state.category.value if state.category else "",
                micro(state.review_by), micro(state.expires_at), micro(left), first, position,
                version, timeline[-1].state,
            )  # fmt: skip
    return {
        "wl_entry_facts": fact_rows,
        "wl_entry_intervals": {(entry_id, k, t, f, v, s) for (k, f), (t, v, s) in made.items()},
        "wl_entries": set() if current is None else {current},
    }


def micro(value: Any) -> int | None:
    return None if value is None else to_micros(value)


ROWS = {
    "wl_entry_facts": (
        "SELECT entry_id, version, position, kind, effective_at, recorded_at, actor, data "
        "FROM {t}wl_entry_facts WHERE entry_id = ?",
        "version",
        1,
    ),
    "wl_entry_intervals": (
        "SELECT entry_id, known_from, known_to, valid_from, valid_to, state "
        "FROM {t}wl_entry_intervals WHERE entry_id = ?",
        "known_from",
        1,
    ),
    "wl_entries": (
        "SELECT entry_id, status, category, review_by, expires_at, left_at, proposed_position, "
        "last_position, version, state FROM {t}wl_entries WHERE entry_id = ?",
        "status",
        1,
    ),
}


def check_entry(
    app: WatchlistApp, tx: Tx, entry_id: str, upto: int, checked: Sequence[Checked] | None = None
) -> list[Failure]:
    """Every projection row of one entry against its verified events (a failure per bad row).

    ``checked``: the entry's events as the caller has just read them with ``read_verified`` (all
    of them, verified), else they are read and verified here.
    """
    if checked is None:
        checked = app.signed_events.read_verified(UUID(entry_id))  # raises on a bad event
    if not checked:
        raise NotFound(f"entry: {entry_id} not found")
    expected = expected_rows(app, entry_id, checked, upto)
    failures = []
    for table, (query, label, index) in ROWS.items():
        found = {normal(r) for r in tx.all(query, (entry_id,))}
        if table == "wl_entry_intervals":
            found = {(*r[:2], OPEN if int(r[2]) > upto else r[2], *r[3:]) for r in found}
            found = {r for r in found if int(r[1]) <= upto}
        for bad in sorted(found ^ expected[table], key=repr):
            failures.append(
                disagrees(table, f"(entry_id={entry_id}, {label}={bad[index]})", entry_id)
            )
    return failures


def normal(row: Sequence[Any]) -> tuple[Any, ...]:
    """A row read back with integers as ``int`` (PostgreSQL and SQLite agree)."""
    return tuple(int(v) if isinstance(v, int) else v for v in row)


def check_entries(app: WatchlistApp, entry_ids: Iterable[str]) -> None:
    """Raise ``IntegrityFailure`` if any projection row of these entries disagrees with events."""
    store = projection_store(app)
    with store.reading() as tx:
        upto = store.position()
        failures = [f for e in entry_ids for f in check_entry(app, tx, e, upto)]
    if failures:
        raise IntegrityFailure(failures)


def check_policies(app: WatchlistApp, tx: Tx, upto: int) -> list[Failure]:
    """Each ``wl_policies`` row against the signed policy version it indexes."""
    signed = {
        v.version: (v.version, to_micros(v.effective_at), v.position, v.document)
        for v in app.policies.versions(upto)
        if v.effective_at is not None
    }
    failures = []
    rows = tx.all("SELECT version, effective_at, position, document FROM {t}wl_policies")
    seen = set()
    for version, effective, position, document in rows:
        seen.add(int(version))
        want = signed.get(int(version))
        if int(position) > upto:
            continue
        try:
            held: PolicyDocument | None = PolicyDocument.model_validate(json.loads(str(document)))
        except (ValueError, InvalidInput):
            held = None
        if (
            want is None
            or (int(version), int(effective), int(position)) != want[:3]
            or held != want[3]
        ):
            failures.append(disagrees("wl_policies", f"version {int(version)}"))
    failures += [
        disagrees("wl_policies", f"version {v} (missing)") for v in signed if v not in seen
    ]
    return failures


def check_then_views(app: WatchlistApp, tx: Tx, deployments: set[str] | None) -> list[Failure]:
    """Each stored "then" view against the one judge over the verified events, signed policy."""
    failures = []
    for deployment_id, at, known_at, text in tx.all(
        "SELECT deployment_id, at, basis, views FROM {t}wl_then_views ORDER BY deployment_id, at"
    ):
        if deployments is not None and str(deployment_id) not in deployments:
            continue
        deployment = app.deployments.get(UUID(str(deployment_id)))
        compiled = deployment.compilation
        where = f"(deployment_id={deployment_id}, at={int(at)}, basis={int(known_at)})"
        if compiled is None or int(compiled["basis"]) != int(known_at):
            failures.append(disagrees("wl_then_views", where, str(deployment_id)))
            continue
        instant = from_micros(int(at))
        in_force = app.policies.at(instant, int(known_at))
        on = Basis(
            instant, int(known_at), in_force.version, in_force.document,
            frozenset(deployment.categories),
        )  # fmt: skip
        listed = [m["entry_id"] for m in compiled["manifest"]]
        considered = listed + [x["entry_id"] for x in compiled["excluded"]]
        found = judge(StoredHistory(app), considered, on)
        rows = []
        for entry_id in considered:
            then = verdict(found[entry_id])
            rows.append(row(entry_id, entry_id in listed, then, then))
        authorisers = {
            e: v.state.authorised_by for e, v in found.items() if v.state.authorised_by is not None
        }
        if packed({"entries": rows, "authorised_by": authorisers}) != str(text):
            failures.append(disagrees("wl_then_views", where, str(deployment_id)))
    return failures


def check_projection(app: WatchlistApp, after: int = 0) -> list[Failure]:
    """``audit verify``'s projection step: every projection row against the verified events.

    In full (``after`` 0), or only the entries and deployments with an event after position
    ``after`` (an incremental audit from a checkpoint), plus every policy row. Events that fail
    verification are the store audit's to report; their entries are skipped here.
    """
    store = projection_store(app)
    try:
        check_reached(app, store)
    except IntegrityFailure as error:
        return [Failure(PROJECTION, None, None, error.message)]
    upto = store.position()
    proposed = [str(n.originator_id) for n in app.notifications([PROPOSED]) if n.id <= upto]
    touched: set[str] | None = None
    if after:
        touched = set()
        start = after + 1
        while start <= upto:
            page = app.recorder.select_notifications(start, 1000, stop=upto)
            if not page:
                break
            touched.update(str(n.originator_id) for n in page)
            start = page[-1].id + 1
    failures: list[Failure] = []
    with store.reading() as tx:
        known = set(proposed)
        for (entry_id,) in tx.all("SELECT entry_id FROM {t}wl_entries"):
            if str(entry_id) not in known:
                failures.append(disagrees("wl_entries", f"(entry_id={entry_id})", str(entry_id)))
        for entry_id in proposed:
            if touched is not None and entry_id not in touched:
                continue
            try:
                failures += check_entry(app, tx, entry_id, upto)
            except IntegrityFailure:
                continue  # a bad event: reported by the store audit
        failures += check_policies(app, tx, upto)
        with suppress(IntegrityFailure):  # a bad event: reported by the store audit
            failures += check_then_views(app, tx, touched)
    return failures
