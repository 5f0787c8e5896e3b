"""Keeping the projection up to date: a pull loop over the notification log with tracking.

Every event is verified (signature, chain, signer standing) before it is projected; a bad event
stops the projection with an integrity failure rather than being skipped. Each batch is written in
one transaction with its tracking position, so a crash loses nothing and repeats nothing, and a
rebuild from an empty projection produces identical rows.

Interval rows are bitemporal: a row holds while its (valid_from, valid_to, state) is unchanged, so
a fact appended in time closes one row and opens two, rather than rewriting the entry's timeline.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, cast
from weakref import WeakKeyDictionary

from eventsourcing.persistence import IntegrityError, Notification, Tracking

from governance.application import WatchlistApp
from governance.domain.facts import EntryState, Fact
from governance.errors import Failure, IntegrityFailure
from governance.integrity.checked import BAD_SIGNATURE
from governance.integrity.envelope import Envelope, state_hash
from governance.storage.recorders import Record
from governance.times import to_micros
from projections.batch import Batch, encode
from projections.deployments import DEPLOYMENT, project_deployment
from projections.intervals import OPEN, intervals
from projections.storage import (
    PROJECTION,
    PostgresProjectionRecorder,
    ProjectionStore,
    SQLiteProjectionRecorder,
)

BATCH = 1000
#: Backlogs at least this long are verified on every core.
PARALLEL_THRESHOLD = 5000
ENTRY = "watchlist:Entry."
_LEFT = {"removed": "removed_at", "expired": "expires_at"}
_HEADER = (
    "originator_id",
    "originator_version",
    "timestamp",
    "actor",
    "effective_at",
    "originator_topic",
    "subject",
)
_STORES: WeakKeyDictionary[WatchlistApp, ProjectionStore] = WeakKeyDictionary()


def projection_store(app: WatchlistApp) -> ProjectionStore:
    """The projection's recorder on the application's own database (created on first use)."""
    store = _STORES.get(app)
    if store is None:
        kind = (
            SQLiteProjectionRecorder
            if app.settings.backend == "sqlite"
            else PostgresProjectionRecorder
        )
        with app.setup_lock():
            store = cast(ProjectionStore, app.factory.tracking_recorder(kind))
        _STORES[app] = store
    return store


def catch_up(app: WatchlistApp, limit: int | None = None) -> int:
    """Project every event not yet projected (at most ``limit``); return how many were projected.

    A long backlog has its signatures checked on every core; nothing is committed until they hold.
    """
    store = projection_store(app)
    backlog = app.position() - store.position()
    if backlog < PARALLEL_THRESHOLD or (os.cpu_count() or 1) == 1:
        return _catch_up(app, store, limit, None)
    method = "fork" if app.settings.backend == "sqlite" else "spawn"
    with ProcessPoolExecutor(mp_context=multiprocessing.get_context(method)) as pool:
        return _catch_up(app, store, limit, pool)


def _catch_up(
    app: WatchlistApp, store: ProjectionStore, limit: int | None, pool: ProcessPoolExecutor | None
) -> int:
    done = 0
    while limit is None or done < limit:
        start = store.position() + 1
        size = BATCH if limit is None else min(BATCH, limit - done)
        page = app.recorder.select_notifications(start, size)
        if not page:
            return done
        try:
            with store.writing(Tracking(PROJECTION, page[-1].id)) as tx:
                batch = Batch(app, tx, jobs=None if pool is None else [])
                for note in page:
                    project(batch, note)
                if pool is not None:
                    batch.settle(pool)
                batch.flush()
        except IntegrityError:
            continue  # another process projected this batch first; start again from its position
        done += len(page)
    return done


def rebuild(app: WatchlistApp) -> int:
    """Empty the projection and project every event again; return how many were projected."""
    projection_store(app).reset()
    return catch_up(app)


def project(batch: Batch, note: Notification) -> None:
    """Verify one event and apply it to the projection."""
    envelope = verified(batch, note)
    batch.add("wl_clock", (note.id, to_micros(envelope.recorded_at)))
    topic = note.topic
    if topic.startswith(ENTRY):
        project_entry(batch, note, envelope)
    elif topic == "watchlist:PolicyVersion.Published":
        document = json.dumps(envelope.payload["document"], sort_keys=True)
        batch.add(
            "wl_policies",
            (envelope.payload["version"], to_micros(envelope.effective_at), note.id, document),
        )
    elif topic == "watchlist:Officer.Enrolled":
        batch.add("wl_officers", (str(note.originator_id), envelope.payload["officer_id"]))
    elif topic.startswith(DEPLOYMENT):
        kind = topic.rpartition(".")[2]
        project_deployment(
            batch.plans, batch.due, batch.tx, str(note.originator_id), kind, envelope
        )
    elif topic.startswith("watchlist:Retention."):
        project_retention(batch, note, envelope)
    elif topic == "watchlist:Officer.Revoked":
        officer_id = officer_of(batch, str(note.originator_id))
        batch.add("wl_revocations", (officer_id, to_micros(envelope.effective_at), note.id))


def project_retention(batch: Batch, note: Notification, envelope: Envelope) -> None:
    """Holds and erasure, counted on the entry's row (applied after the batch's entry rows)."""
    stream = str(note.originator_id)
    if note.topic.endswith(".Opened"):
        batch.retention[stream] = str(envelope.payload["entry_id"])
        batch.add("wl_retention", (stream, envelope.payload["entry_id"]))
        return
    entry_id = batch.retention.get(stream)
    if entry_id is None:
        row = batch.tx.one("SELECT entry_id FROM {t}wl_retention WHERE stream = ?", (stream,))
        assert row is not None, (
            "a retention record is opened before anything else is recorded on it"
        )
        entry_id = str(row[0])
    kind = note.topic.rpartition(".")[2]
    if kind == "HoldPlaced":
        batch.add("holds", (1, entry_id))
    elif kind == "HoldReleased":
        batch.add("holds", (-1, entry_id))
    elif kind == "Erased":
        batch.add("erased", (entry_id,))


def officer_of(batch: Batch, stream: str) -> str:
    """The officer id of an officer stream (enrolled earlier, possibly in this batch)."""
    for row_stream, officer_id in batch.writes.get("wl_officers", []):
        if row_stream == stream:
            return str(officer_id)
    row = batch.tx.one("SELECT officer_id FROM {t}wl_officers WHERE stream = ?", (stream,))
    if row is None:
        raise IntegrityFailure(f"officer stream {stream} was revoked without being enrolled")
    return str(row[0])


def verified(batch: Batch, note: Notification) -> Envelope:
    """The event's envelope, after every check the store makes on a read."""
    stream = str(note.originator_id)
    version, prev = batch.head(stream)
    before = len(batch.jobs) if batch.jobs is not None else 0
    (checked,) = batch.app.verifier.check_stream(
        [Record(note.id, note)], prev, first_version=version + 1, defer=batch.jobs
    )
    if not checked.valid or checked.envelope is None:
        raise IntegrityFailure(checked.failures())
    if batch.jobs is not None and len(batch.jobs) > before:
        batch.places.append(Failure(stream, note.originator_version, note.id, BAD_SIGNATURE))
    batch.heads[stream] = (note.originator_version, state_hash(note.state))
    return checked.envelope


def project_entry(batch: Batch, note: Notification, envelope: Envelope) -> None:
    """Record the fact, then close and open interval rows from this knowledge point on."""
    entry_id, position = str(note.originator_id), note.id
    data = {k: v for k, v in batch.app.codec.event_state(envelope).items() if k not in _HEADER}
    kind = note.topic.rpartition(".")[2]
    batch.add("wl_entry_facts", (
        entry_id, note.originator_version, position, kind, to_micros(envelope.effective_at),
        to_micros(envelope.recorded_at), envelope.actor, encode(batch.app, data),
    ))  # fmt: skip
    facts = batch.entry_facts(entry_id)
    facts.append(Fact(note.originator_version, kind, envelope.effective_at, envelope.actor, data))
    timeline = intervals(facts)
    pieces = {(p.valid_from, p.valid_to, p.state) for p in timeline}
    rows = batch.entry_rows(entry_id)
    for key in [k for k in rows if k not in pieces]:
        known_from = rows.pop(key)
        created = batch.created.get((entry_id, known_from, key[0]))
        if created is not None:
            created[0] = position
        else:
            batch.closed.append((position, entry_id, known_from, key[0]))
    for key in pieces - rows.keys():
        rows[key] = position
        batch.created[(entry_id, position, key[0])] = [OPEN, key[1], key[2]]
    if timeline:
        last = timeline[-1]
        update_current(batch, entry_id, position, note.originator_version, last.state, last.decoded)


def update_current(
    batch: Batch, entry_id: str, position: int, version: int, encoded: str, state: EntryState
) -> None:
    """The entry's row in the list of entries as they stand now."""
    status = state.status.value if state.status else "proposed"
    left = getattr(state, _LEFT[status]) if status in _LEFT else None
    proposed = batch.current.get(entry_id)
    if proposed is None:
        row = batch.tx.one(
            "SELECT proposed_position FROM {t}wl_entries WHERE entry_id = ?", (entry_id,)
        )
        first = int(row[0]) if row else position
    else:
        first = int(proposed[5])
    batch.current[entry_id] = [
        status,
        state.category.value if state.category else "",
        _micros(state.review_by),
        _micros(state.expires_at),
        _micros(left),
        first,
        position,
        version,
        encoded,
    ]


def _micros(value: Any) -> int | None:
    return None if value is None else to_micros(value)
