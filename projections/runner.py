"""Keeping the projection up to date: a pull loop over the notification log with tracking.

Every event is verified (signature, chain, signer standing) before it is projected; a bad event
stops the projection with an integrity failure rather than being skipped. Each batch is written in
one transaction with its tracking position, so a crash loses nothing and repeats nothing, and a
rebuild from an empty projection produces identical rows. What each type of event adds to the
projection is in ``projections.handlers``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, cast
from weakref import WeakKeyDictionary

from eventsourcing.persistence import IntegrityError, Notification, Tracking, TrackingRecorder

from governance.application import WatchlistApp
from governance.errors import Failure, IntegrityFailure
from governance.integrity.checked import BAD_SIGNATURE
from governance.integrity.envelope import Envelope, state_hash
from governance.storage.recorders import Record
from governance.times import to_micros
from projections.batch import Batch
from projections.handlers import handle
from projections.storage import PROJECTION, ProjectionStore, SQLiteProjectionRecorder

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

BATCH = 1000
#: Backlogs at least this long are verified on every core.
PARALLEL_THRESHOLD = 5000
_STORES: WeakKeyDictionary[WatchlistApp, ProjectionStore] = WeakKeyDictionary()


def projection_store(app: WatchlistApp) -> ProjectionStore:
    """The projection's recorder on the application's own database (created on first use)."""
    store = _STORES.get(app)
    if store is None:
        kind: type[TrackingRecorder] = SQLiteProjectionRecorder
        if app.settings.backend != "sqlite":
            from projections.postgres_storage import PostgresProjectionRecorder  # noqa: PLC0415 - psycopg

            kind = PostgresProjectionRecorder
        with app.setup_lock():
            store = cast(ProjectionStore, app.factory.tracking_recorder(kind))
        _STORES[app] = store
    return store


def catch_up(app: WatchlistApp, limit: int | None = None) -> int:
    """Project every event not yet projected (at most ``limit``); return how many were projected.

    A long backlog has its signatures checked on every core; nothing is committed until they hold.
    """
    store = projection_store(app)
    check_reached(app, store)
    backlog = app.position() - store.position()
    if backlog < PARALLEL_THRESHOLD or (os.cpu_count() or 1) == 1:
        return _catch_up(app, store, limit, None)
    import multiprocessing  # noqa: PLC0415 - a long backlog only (slow to import)
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

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
                tx.run(REACHED, (f"{page[-1].id} {state_hash(page[-1].state)}",))
        except IntegrityError:
            continue  # another process projected this batch first; start again from its position
        done += len(page)
    return done


#: The log size the projection has reached: the last position projected and the hash of its event.
REACHED = (
    "INSERT INTO {t}wl_meta VALUES ('reached', ?) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)


def check_reached(app: WatchlistApp, store: ProjectionStore) -> None:
    """Refuse a projection that is ahead of the log, or built on an event no longer there.

    The projection records the last position it projected and the hash of that event's stored
    bytes. A log that now ends before that position had its tail removed; a different event at that
    position means the tail was removed and refilled (new events reusing the old positions). Either
    way the projection would serve facts that no longer exist, or skip new ones: an integrity
    failure, never an answer. ``watchlist`` rebuilds it only when asked (``rebuild``).
    """
    reached = store.position()
    if reached == 0:
        return
    with store.reading() as tx:
        row = tx.one("SELECT value FROM {t}wl_meta WHERE name = 'reached'")
    size = app.position()
    if size < reached:
        raise IntegrityFailure(
            f"projection: it has reached log position {reached} but the log now ends at {size}: "
            "the tail of the log was removed, so the projection holds facts that no longer exist"
        )
    if row is None:
        return  # projected before the log size was recorded; checked from the next batch on
    position, _, digest = str(row[0]).partition(" ")
    page = app.recorder.select_notifications(int(position), 1)
    if not page or page[0].id != int(position) or state_hash(page[0].state) != digest:
        raise IntegrityFailure(
            f"projection: the event at log position {position}, the last it projected, has changed "
            "or gone: the tail of the log was removed or rewritten, so the projection no longer "
            "matches the log"
        )


def rebuild(app: WatchlistApp) -> int:
    """Empty the projection and project every event again; return how many were projected."""
    projection_store(app).reset()
    return catch_up(app)


def project(batch: Batch, note: Notification) -> None:
    """Verify one event, decode it through the catalogue, and apply it to the projection."""
    envelope = verified(batch, note)
    batch.add("wl_clock", (note.id, to_micros(envelope.recorded_at)))
    handle(batch.app.verifier.to_event(envelope), batch, note)


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
