"""Reconstructing a past deployment for the legal team: the permission check, the read side, and the
check of every row it gives against the signed record.

The rows are built by ``projections.reconstruction`` from the projection (an index: the stored
"then" views, the entries changed since). None of it is taken on trust: the policy versions must
be the signed ones in force, every cited event is read back and verified (signature, hash chain,
position) and must say what the row cites, each "then" verdict must be the signed compile's (or,
for a deployment that went live at another instant, the one judge's over the verified events), and
each entry with a verified event after the basis is judged again from its verified events. A row
that disagrees is an integrity failure naming the table and the row; it never changes an answer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from governance.application import WatchlistApp
from governance.domain.judging import Basis, Place, cite, judge
from governance.domain.permissions import Action
from governance.errors import Failure, IntegrityFailure, NotFound
from governance.integrity.checked import Checked, SignatureJob, failing_jobs
from governance.integrity.envelope import GENESIS_PREV, state_hash
from governance.integrity.signing import Signer
from governance.integrity.verified_cache import Note
from governance.services.projection_check import disagrees
from governance.services.stored_history import PROPOSED, StoredHistory
from governance.storage.records import Record
from governance.times import to_micros
from projections.judging import verdict
from projections.reconstruction import Reconstruction, cycle_collection_paused, reconstruct

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

#: Below this many entries to verify (about ten events each), this process checks the signatures
#: alone (a pool takes time to start); above it, they are sent to a process on every core in chunks
#: of ``CHUNK``. The entries' streams are read ``STREAMS_PER_READ`` at a time.
PARALLEL_ENTRIES = 200
CHUNK = 2_000
STREAMS_PER_READ = 500
IN_FLIGHT = 8  # chunks sent to the workers and not yet checked, at most


def reconstruct_deployment(
    app: WatchlistApp, signer: Signer, deployment_id: UUID
) -> Reconstruction:
    """Every entry the deployment's gate judged, as known then and now (legal, fresh standing)."""
    app.authenticate(signer, Action.RECONSTRUCT_DEPLOYMENT, fresh=True)
    return checked_reconstruction(app, deployment_id)


def checked_reconstruction(app: WatchlistApp, deployment_id: UUID) -> Reconstruction:
    """The reconstruction, every row of it checked against the verified events it cites."""
    with cycle_collection_paused():  # many small objects, none in cycles (see there)
        return _checked_reconstruction(app, deployment_id)


def _checked_reconstruction(app: WatchlistApp, deployment_id: UUID) -> Reconstruction:
    result = reconstruct(app, deployment_id)
    deployment = app.deployments.get(deployment_id)
    compiled = deployment.compilation
    assert compiled is not None  # ``reconstruct`` refused a deployment never compiled
    table = f"(deployment_id={deployment_id})"
    failures = [
        *signed_basis(app, result.then, "then"),
        *signed_basis(app, result.now, "now"),
    ]
    if failures:
        raise IntegrityFailure(failures)
    considered = [e["entry_id"] for e in result.entries]
    verified = verified_streams(app, considered)
    history = StoredHistory(app)  # reads the entries judged again: verified just now, remembered
    at_compile = {m["entry_id"]: int(m["version"]) for m in compiled["manifest"]}
    reasons = {x["entry_id"]: list(x["reasons"]) for x in compiled["excluded"]}
    as_compiled = deployment.go_live == compiled["judged_at"]
    changed: list[str] = []
    items: dict[tuple[str, str, int], dict[str, Any]] = {}  # each cited fact built once
    for entry in result.entries:
        entry_id = entry["entry_id"]
        events = verified[entry_id]
        if not events or events[0][0] != PROPOSED:
            raise NotFound(f"entry: {entry_id} not found")  # as a read of its history says
        places = {
            version: place
            for version, (_, place) in enumerate(events, 1)
            if place.position <= result.now.known_at
        }
        where = f"{table} entry {entry_id}"
        for view in ("then", "now"):
            for item in entry[view]["evidence"]:
                place = places.get(int(item["version"]))
                if place is None or item != cite(
                    items, item["fact"], entry_id, item["version"], place
                ):
                    failures.append(disagrees("wl_then_views", f"{where} evidence", entry_id))
        then = entry["then"]
        if as_compiled and not signed_verdict(
            then, at_compile.get(entry_id), reasons.get(entry_id)
        ):
            failures.append(disagrees("wl_then_views", f"{where} verdict", entry_id))
        if any(p.position > result.then.known_at for p in places.values()):
            changed.append(entry_id)
    if not as_compiled:
        failures += rejudged(history, result, considered, "then")
    changed += late_revocations(history, result)
    failures += rejudged(history, result, sorted(set(changed)), "now")
    unchanged = set(considered) - set(changed)
    for entry in result.entries:
        if entry["entry_id"] in unchanged and entry["now"] != entry["then"]:
            failures.append(
                disagrees("wl_entries", f"(entry_id={entry['entry_id']})", entry["entry_id"])
            )
    if failures:
        raise IntegrityFailure(failures)
    return result


def verified_streams(app: WatchlistApp, entry_ids: list[str]) -> dict[str, list[tuple[str, Place]]]:
    """Each event of these entries (by version, from 1): its type and where it was recorded, every
    event read and verified as ``read_verified`` verifies a stream (signature, hash chain, versions,
    signer standing at the position, the write-time rules). Raises ``IntegrityFailure`` naming each
    bad event. Verified events are remembered (``VerifiedEvents``) as by a read, with their places:
    a stream whose every event this process verified before, at the same place, chained the same
    way, with the very same bytes (``VerifiedEvents.noted``), needs no second check.

    The streams are read ``STREAMS_PER_READ`` at a time, so memory stays flat. On a large read the
    Ed25519 checks go to a process on every core, in chunks sent as the streams are checked, so the
    signatures are verified while this process decodes and checks the rest.
    """
    found: dict[str, list[tuple[str, Place]]] = {}
    pending: dict[str, list[tuple[Record, str, str, Note]]] = {}  # remembered once signatures hold
    bad: set[str] = set()
    with signature_checks(app, len(entry_ids)) as checks:
        for start in range(0, len(entry_ids), STREAMS_PER_READ):
            part = entry_ids[start : start + STREAMS_PER_READ]
            ids = [UUID(e) for e in part]
            streams: dict[UUID | str, list[Record]] = {i: [] for i in ids}
            for record in app.store_recorder.select_streams(ids):
                streams[record.stored.originator_id].append(record)
            for entry_id, stream in zip(part, streams.values(), strict=True):
                held = remembered(app, entry_id, stream)
                if held is not None:
                    found[entry_id] = held
                    continue
                jobs: list[SignatureJob] = []
                checked = app.verifier.check_stream(stream, defer=jobs)
                checks.add(entry_id, jobs)
                if not all(c.valid for c in checked):
                    bad.add(entry_id)
                    continue
                found[entry_id], pending[entry_id] = noted(checked)
        bad.update(checks.failing())
    # Each bad stream is checked again one event at a time, naming every failure in it.
    failures = [
        f for e in sorted(bad) for c in app.signed_events.check(UUID(e)) for f in c.failures()
    ]
    if failures:
        raise IntegrityFailure(failures)
    for events in pending.values():
        for record, prev, digest, note in events:
            app.verifier.verified.remember(record, prev, digest, note)
    return {e: found[e] for e in entry_ids}


def noted(
    checked: list[Checked],
) -> tuple[list[tuple[str, Place]], list[tuple[Record, str, str, Note]]]:
    """A stream's checked events as (type, place), and what to remember of each once they hold
    (the stored bytes themselves are not kept: only their hash is remembered)."""
    events, remember, prev = [], [], GENESIS_PREV
    for item in checked:
        assert item.envelope is not None  # an event that does not decode has a failure
        stored, envelope = item.record.stored, item.envelope
        note = (envelope.actor, to_micros(envelope.effective_at), to_micros(envelope.recorded_at))
        digest = state_hash(stored.state)
        light = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, b"")
        remember.append((Record(item.record.position, light), prev, digest, note))
        events.append((stored.topic, place(item.record, note)))
        prev = digest
    return events, remember


def remembered(
    app: WatchlistApp, entry_id: str, stream: list[Record]
) -> list[tuple[str, Place]] | None:
    """The stream's events if this process verified every one of them before, exactly as they are
    stored now (see ``VerifiedEvents.noted``), from version 1 on; else None."""
    events, prev = [], GENESIS_PREV
    for version, record in enumerate(stream, 1):
        if record.stored.originator_version != version:
            return None
        digest = state_hash(record.stored.state)
        note = app.verifier.verified.noted(entry_id, record, digest, prev)
        if note is None:
            return None
        events.append((record.stored.topic, place(record, note)))
        prev = digest
    return events or None


def place(record: Record, note: Note) -> Place:
    """Where the verified event ``record`` was recorded, from what was noted of its statement."""
    actor, effective_at, recorded_at = note
    kind = record.stored.topic.rpartition(".")[2]
    return Place(record.position, actor, kind, effective_at, recorded_at)


class SignatureChecks:
    """Deferred Ed25519 checks, by stream: run here, or sent in chunks to a process pool."""

    def __init__(self, pool: ProcessPoolExecutor | None) -> None:
        self.pool = pool
        self.jobs: list[SignatureJob] = []
        self.owners: list[str] = []  # the stream of each job not yet sent
        self.sent: list[tuple[list[str], Future[list[int]]]] = []

    def add(self, stream: str, jobs: list[SignatureJob]) -> None:
        self.jobs += jobs
        self.owners += [stream] * len(jobs)
        if self.pool is not None and len(self.jobs) >= CHUNK:
            self.sent.append((self.owners, self.pool.submit(failing_jobs, self.jobs)))
            self.jobs, self.owners = [], []
            if len(self.sent) > IN_FLIGHT:  # bounded: memory stays flat if the workers lag
                self.sent[-IN_FLIGHT - 1][1].result()

    def failing(self) -> list[str]:
        """The streams with a signature that does not verify."""
        bad = {self.owners[i] for i in failing_jobs(self.jobs)}
        bad.update(owners[i] for owners, future in self.sent for i in future.result())
        return sorted(bad)


@contextmanager
def signature_checks(app: WatchlistApp, entries: int) -> Iterator[SignatureChecks]:
    """Signature checks on every core for a read of many entries' events, else in this process."""
    workers = os.cpu_count() or 1
    if entries < PARALLEL_ENTRIES or workers == 1:
        yield SignatureChecks(None)
        return
    import multiprocessing  # noqa: PLC0415 - a large read only (slow to import)
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

    method = "fork" if app.settings.backend == "sqlite" else "spawn"
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
        yield SignatureChecks(pool)


def signed_basis(app: WatchlistApp, on: Basis, view: str) -> list[Failure]:
    """The policy version the projection found in force must be the signed one."""
    in_force = app.policies.at(on.at, on.known_at)
    if (in_force.version, in_force.document) == (on.policy_version, on.policy):
        return []
    return [disagrees("wl_policies", f"version {on.policy_version} (in force {view})")]


def signed_verdict(then: dict[str, Any], version: int | None, reasons: list[str] | None) -> bool:
    """A 'then' verdict the signed compile bears out (judged at the same instant and basis)."""
    if version is not None:
        return bool(then["justified"]) and int(then["version"]) == version
    if reasons is not None:
        return not then["justified"] and list(then["reasons"]) == reasons
    return False


def rejudged(
    history: StoredHistory, result: Reconstruction, entry_ids: list[str], view: str
) -> list[Failure]:
    """The rows' ``view`` verdicts of these entries against the one judge over verified events."""
    if not entry_ids:
        return []
    on = result.then if view == "then" else result.now
    found = judge(history, entry_ids, on)
    rows = {e["entry_id"]: e for e in result.entries}
    table = "wl_then_views" if view == "then" else "wl_entry_intervals"
    return [
        disagrees(table, f"(entry_id={entry_id}) as known {view}", entry_id)
        for entry_id in entry_ids
        if rows[entry_id][view] != verdict(found[entry_id])
    ]


def late_revocations(history: StoredHistory, result: Reconstruction) -> list[str]:
    """Entries whose authoriser's revocation by go-live was recorded after the basis."""
    by: dict[str, list[str]] = {}
    for entry in result.entries:
        for item in entry["then"]["evidence"]:
            if item["fact"] == "authorised":
                by.setdefault(item["actor"], []).append(entry["entry_id"])
    officers = sorted(by)
    late = set(history.revoked(officers, result.now.at, result.now.known_at)) - set(
        history.revoked(officers, result.then.at, result.then.known_at)
    )
    return [e for officer in late for e in by[officer]]
