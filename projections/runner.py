"""Keeping the projection up to date: a pull loop over the notification log with tracking.

Every event is verified (signature, chain, signer standing) before it is projected; a bad event
stops the projection with an integrity failure rather than being skipped. Each batch is written in
one transaction with its tracking position, so a crash loses nothing and repeats nothing, and a
rebuild from an empty projection produces identical rows.
"""

from __future__ import annotations

import json
from typing import Any, cast
from weakref import WeakKeyDictionary

from eventsourcing.persistence import IntegrityError, Notification, Tracking

from governance.envelope import GENESIS_PREV, Envelope, state_hash
from governance.errors import IntegrityFailure
from governance.facts import Fact
from governance.recorders import Record
from governance.store import StoreCore
from governance.times import from_micros, to_micros
from projections.intervals import OPEN, decode_state, intervals
from projections.storage import (
    PROJECTION,
    PostgresProjectionRecorder,
    ProjectionStore,
    SQLiteProjectionRecorder,
    Tx,
)

BATCH = 500
ENTRY = "watchlist:Entry."
_LEFT = {"removed": "removed_at", "expired": "expires_at"}


_STORES: WeakKeyDictionary[StoreCore, ProjectionStore] = WeakKeyDictionary()


def projection_store(app: StoreCore) -> ProjectionStore:
    """The projection's recorder on the application's own database (created on first use)."""
    store = _STORES.get(app)
    if store is None:
        kind = (
            SQLiteProjectionRecorder
            if app.settings.backend == "sqlite"
            else PostgresProjectionRecorder
        )
        store = cast(ProjectionStore, app.factory.tracking_recorder(kind))
        _STORES[app] = store
    return store


def catch_up(app: StoreCore, limit: int | None = None) -> int:
    """Project every event not yet projected (at most ``limit``); return how many were projected."""
    store = projection_store(app)
    done = 0
    while limit is None or done < limit:
        start = store.position() + 1
        page = app.recorder.select_notifications(
            start, BATCH if limit is None else min(BATCH, limit - done)
        )
        if not page:
            return done
        try:
            with store.writing(Tracking(PROJECTION, page[-1].id)) as tx:
                for note in page:
                    project(app, tx, note)
        except IntegrityError:
            continue  # another process projected this batch first; start again from its position
        done += len(page)
    return done


def rebuild(app: StoreCore) -> int:
    """Empty the projection and project every event again; return how many were projected."""
    projection_store(app).reset()
    return catch_up(app)


def project(app: StoreCore, tx: Tx, note: Notification) -> None:
    """Verify one event and apply it to the projection tables."""
    envelope = verified(app, tx, note)
    tx.run("INSERT INTO {t}wl_clock VALUES (?, ?)", (note.id, to_micros(envelope.recorded_at)))
    topic = note.topic
    if topic.startswith(ENTRY):
        project_entry(app, tx, note, envelope)
    elif topic == "watchlist:PolicyVersion.Published":
        document = envelope.payload["document"]
        tx.run(
            "INSERT INTO {t}wl_policies VALUES (?, ?, ?, ?)",
            (
                envelope.payload["version"],
                to_micros(envelope.effective_at),
                note.id,
                json.dumps(document, sort_keys=True),
            ),
        )
    elif topic == "watchlist:Officer.Enrolled":
        tx.run(
            "INSERT INTO {t}wl_officers VALUES (?, ?)",
            (str(note.originator_id), envelope.payload["officer_id"]),
        )
    elif topic == "watchlist:Officer.Revoked":
        row = tx.one(
            "SELECT officer_id FROM {t}wl_officers WHERE stream = ?", (str(note.originator_id),)
        )
        assert row is not None, "an officer is enrolled before being revoked"
        tx.run(
            "INSERT INTO {t}wl_revocations VALUES (?, ?, ?)",
            (row[0], to_micros(envelope.effective_at), note.id),
        )


def verified(app: StoreCore, tx: Tx, note: Notification) -> Envelope:
    """The event's envelope, after every check the store makes on a read."""
    stream = str(note.originator_id)
    head = tx.one("SELECT version, hash FROM {t}wl_heads WHERE stream = ?", (stream,))
    version, prev = (int(head[0]), str(head[1])) if head else (0, GENESIS_PREV)
    (checked,) = app.verifier.check_stream([Record(note.id, note)], prev, first_version=version + 1)
    if not checked.valid or checked.envelope is None:
        raise IntegrityFailure(checked.failures())
    tx.run(
        "INSERT INTO {t}wl_heads VALUES (?, ?, ?) "
        "ON CONFLICT (stream) DO UPDATE SET version = excluded.version, hash = excluded.hash",
        (stream, note.originator_version, state_hash(note.state)),
    )
    return checked.envelope


def project_entry(app: StoreCore, tx: Tx, note: Notification, envelope: Envelope) -> None:
    """Record the fact, then rewrite the entry's open intervals from this knowledge point on."""
    entry_id = str(note.originator_id)
    data = app.codec.event_state(envelope)
    for key in (
        "originator_id",
        "originator_version",
        "timestamp",
        "actor",
        "effective_at",
        "originator_topic",
        "subject",
    ):
        data.pop(key, None)
    kind = note.topic.rpartition(".")[2]
    tx.run(
        "INSERT INTO {t}wl_entry_facts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            entry_id,
            note.originator_version,
            note.id,
            kind,
            to_micros(envelope.effective_at),
            to_micros(envelope.recorded_at),
            envelope.actor,
            encode(app, data),
        ),
    )
    facts = [
        Fact(version, kind_, from_micros(effective), actor, decode(app, text))
        for version, kind_, effective, actor, text in tx.all(
            "SELECT version, kind, effective_at, actor, data FROM {t}wl_entry_facts "
            "WHERE entry_id = ? ORDER BY version",
            (entry_id,),
        )
    ]
    tx.run(
        "UPDATE {t}wl_entry_intervals SET known_to = ? WHERE entry_id = ? AND known_to = ?",
        (note.id, entry_id, OPEN),
    )
    pieces = intervals(facts)
    tx.many(
        "INSERT INTO {t}wl_entry_intervals VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (entry_id, note.id, OPEN, p.valid_from, p.valid_to, note.originator_version, p.state)
            for p in pieces
        ],
    )
    if pieces:
        current = decode_state(pieces[-1].state)
        status = current.status.value if current.status else "proposed"
        left = getattr(current, _LEFT[status]) if status in _LEFT else None
        proposed = tx.one(
            "SELECT proposed_position FROM {t}wl_entries WHERE entry_id = ?", (entry_id,)
        )
        tx.run(
            "INSERT INTO {t}wl_entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (entry_id) DO UPDATE SET "
            "status = excluded.status, category = excluded.category, review_by = excluded.review_by, "
            "expires_at = excluded.expires_at, left_at = excluded.left_at, last_position = excluded.last_position, "
            "version = excluded.version, state = excluded.state",
            (
                entry_id,
                status,
                current.category.value if current.category else "",
                _micros(current.review_by),
                _micros(current.expires_at),
                _micros(left),
                proposed[0] if proposed else note.id,
                note.id,
                note.originator_version,
                pieces[-1].state,
            ),
        )


def encode(app: StoreCore, data: dict[str, Any]) -> str:
    """A fact's data as JSON, keeping date-times (the library's transcoder tags them)."""
    return bytes(app.mapper.transcoder.encode(data)).decode("utf-8")


def decode(app: StoreCore, text: str) -> dict[str, Any]:
    decoded: dict[str, Any] = app.mapper.transcoder.decode(text.encode("utf-8"))
    return decoded


def _micros(value: Any) -> int | None:
    return None if value is None else to_micros(value)
