"""What the projection does with each type of event: one handler per event class.

``handle`` dispatches on the class of the decoded event (decoded only through the catalogue,
``governance.domain.catalogue``), as the library's ``Projection.process_event`` does; events the
projection keeps nothing of (rank, role and key changes, consultations, sweep runs, a deployment's
end) fall through to the default. Handlers add rows to the batch; ``Batch.flush`` writes them.

Interval rows are bitemporal: a row holds while its (valid_from, valid_to, state) is unchanged, so
a fact appended in time closes one row and opens two, rather than rewriting the entry's timeline.
"""

from __future__ import annotations

import json
from functools import singledispatch
from typing import Any

from eventsourcing.persistence import Notification

from governance.domain.deployment import Deployment
from governance.domain.entry import Entry
from governance.domain.facts import EntryState, Fact
from governance.domain.officer import Officer
from governance.domain.policy import PolicyVersion
from governance.domain.retention import Retention
from governance.errors import IntegrityFailure
from governance.times import to_micros
from projections.batch import Batch, encode
from projections.deployments import plan_authorised, plan_compiled, plan_started
from projections.intervals import OPEN, intervals

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


def made_by_event(aggregate: type[Any], name: str) -> type[Any]:
    """The event class the library made for an ``@event("Name")`` method (static types miss it)."""
    made: type[Any] = vars(aggregate)[name]
    return made


@singledispatch
def handle(event: object, batch: Batch, note: Notification) -> None:
    """Apply one verified, decoded event to the projection (by default: nothing to keep)."""


@handle.register(Entry.Event)
def _entry(event: Entry.Event, batch: Batch, note: Notification) -> None:
    project_entry(batch, note, event)


@handle.register(PolicyVersion.Published)
def _policy_published(event: PolicyVersion.Published, batch: Batch, note: Notification) -> None:
    document = json.dumps(event.document, sort_keys=True)
    batch.add("wl_policies", (event.version, to_micros(event.effective_at), note.id, document))


@handle.register(Officer.Enrolled)
def _officer_enrolled(event: Officer.Enrolled, batch: Batch, note: Notification) -> None:
    batch.add("wl_officers", (str(event.originator_id), event.officer_id))


@handle.register(made_by_event(Officer, "Revoked"))
def _officer_revoked(event: Officer.Event, batch: Batch, note: Notification) -> None:
    officer_id = officer_of(batch, str(event.originator_id))
    batch.add("wl_revocations", (officer_id, to_micros(event.effective_at), note.id))


@handle.register(Deployment.Authorised)
def _deployment_authorised(event: Deployment.Authorised, batch: Batch, note: Notification) -> None:
    plan_authorised(batch.plans, str(event.originator_id), event.planned_start, event.categories)


@handle.register(made_by_event(Deployment, "Compiled"))
def _deployment_compiled(event: Any, batch: Batch, note: Notification) -> None:
    stream = str(event.originator_id)
    plan_compiled(
        batch.plans, batch.due, batch.tx, stream, event.basis, event.manifest, event.excluded
    )


@handle.register(made_by_event(Deployment, "Started"))
def _deployment_started(event: Deployment.Event, batch: Batch, note: Notification) -> None:
    stream = str(event.originator_id)
    plan_started(batch.plans, batch.due, batch.tx, stream, event.effective_at)


# Holds and erasure are counted on the entry's row (applied after the batch's entry rows).
@handle.register(Retention.Opened)
def _retention_opened(event: Retention.Opened, batch: Batch, note: Notification) -> None:
    batch.retention[str(event.originator_id)] = event.entry_id
    batch.add("wl_retention", (str(event.originator_id), event.entry_id))


@handle.register(made_by_event(Retention, "HoldPlaced"))
def _hold_placed(event: Retention.Event, batch: Batch, note: Notification) -> None:
    batch.add("holds", (1, retained_entry(batch, str(event.originator_id))))


@handle.register(made_by_event(Retention, "HoldReleased"))
def _hold_released(event: Retention.Event, batch: Batch, note: Notification) -> None:
    batch.add("holds", (-1, retained_entry(batch, str(event.originator_id))))


@handle.register(made_by_event(Retention, "Erased"))
def _erased(event: Retention.Event, batch: Batch, note: Notification) -> None:
    batch.add("erased", (retained_entry(batch, str(event.originator_id)),))


def retained_entry(batch: Batch, stream: str) -> str:
    """The entry a retention stream is about (opened earlier, possibly in this batch)."""
    entry_id = batch.retention.get(stream)
    if entry_id is None:
        row = batch.tx.one("SELECT entry_id FROM {t}wl_retention WHERE stream = ?", (stream,))
        assert row is not None, (
            "a retention record is opened before anything else is recorded on it"
        )
        entry_id = batch.retention[stream] = str(row[0])
    return entry_id


def officer_of(batch: Batch, stream: str) -> str:
    """The officer id of an officer stream (enrolled earlier, possibly in this batch)."""
    for row_stream, officer_id in batch.writes.get("wl_officers", []):
        if row_stream == stream:
            return str(officer_id)
    row = batch.tx.one("SELECT officer_id FROM {t}wl_officers WHERE stream = ?", (stream,))
    if row is None:
        raise IntegrityFailure(f"officer stream {stream} was revoked without being enrolled")
    return str(row[0])


def project_entry(batch: Batch, note: Notification, event: Entry.Event) -> None:
    """Record the fact, then close and open interval rows from this knowledge point on."""
    entry_id, position, version = str(event.originator_id), note.id, event.originator_version
    data = {k: v for k, v in vars(event).items() if k not in _HEADER}
    kind = note.topic.rpartition(".")[2]  # the fact's kind, as the stable topic names it
    batch.add("wl_entry_facts", (
        entry_id, version, position, kind, to_micros(event.effective_at),
        to_micros(event.timestamp), event.actor, encode(batch.app, data),
    ))  # fmt: skip
    facts = batch.entry_facts(entry_id)
    facts.append(Fact(version, kind, event.effective_at, event.actor, data))
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
        update_current(batch, entry_id, position, version, last.state, last.decoded)


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
