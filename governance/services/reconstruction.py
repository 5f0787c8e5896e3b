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

from governance.application import WatchlistApp
from governance.domain.judging import Basis, Place, cite, judge
from governance.domain.permissions import Action
from governance.errors import Failure, IntegrityFailure, NotFound
from governance.integrity.checked import Checked, SignatureJob, failing_jobs
from governance.integrity.envelope import GENESIS_PREV, state_hash
from governance.integrity.signing import Signer
from governance.services.projection_check import disagrees
from governance.services.stored_history import PROPOSED, StoredHistory
from governance.storage.records import Record
from governance.times import to_micros
from projections.judging import verdict
from projections.reconstruction import Reconstruction, reconstruct

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

#: Below this many events to verify, this process checks the signatures alone (a pool takes time
#: to start); above it, they are sent to a process on every core in chunks of ``CHUNK``.
PARALLEL_SIGNATURES = 2_000
CHUNK = 2_000


def reconstruct_deployment(
    app: WatchlistApp, signer: Signer, deployment_id: UUID
) -> Reconstruction:
    """Every entry the deployment's gate judged, as known then and now (legal, fresh standing)."""
    app.authenticate(signer, Action.RECONSTRUCT_DEPLOYMENT, fresh=True)
    return checked_reconstruction(app, deployment_id)


def checked_reconstruction(app: WatchlistApp, deployment_id: UUID) -> Reconstruction:
    """The reconstruction, every row of it checked against the verified events it cites."""
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
    history = StoredHistory(app, verified)
    at_compile = {m["entry_id"]: int(m["version"]) for m in compiled["manifest"]}
    reasons = {x["entry_id"]: list(x["reasons"]) for x in compiled["excluded"]}
    as_compiled = deployment.go_live == compiled["judged_at"]
    changed: list[str] = []
    items: dict[tuple[str, str, int], dict[str, Any]] = {}  # each cited fact built once
    for entry in result.entries:
        entry_id = entry["entry_id"]
        checked = verified[entry_id]
        if not checked or checked[0].record.stored.topic != PROPOSED:
            raise NotFound(f"entry: {entry_id} not found")  # as a read of its history says
        places = known_places(checked, result.now.known_at)
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


def known_places(checked: list[Checked], known_at: int) -> dict[int, Place]:
    """Where each verified event of one entry recorded at or before ``known_at`` was recorded."""
    return {
        c.record.stored.originator_version: Place(
            c.record.position,
            c.envelope.actor,
            c.record.stored.topic.rpartition(".")[2],
            to_micros(c.envelope.effective_at),
            to_micros(c.envelope.recorded_at),
        )
        for c in checked
        if c.record.position <= known_at and c.envelope is not None
    }


def verified_streams(app: WatchlistApp, entry_ids: list[str]) -> dict[str, list[Checked]]:
    """Every event of these entries, read in bulk and verified as ``read_verified`` verifies a
    stream (signature, hash chain, versions, signer standing at the position, the write-time rules).
    Raises ``IntegrityFailure`` naming each bad event. Verified events are remembered
    (``VerifiedEvents``) as by a read.

    On a large read the Ed25519 checks go to a process on every core, in chunks sent as the streams
    are checked, so the signatures are verified while this process decodes and checks the rest.
    """
    by_stream: dict[str, list[Record]] = {e: [] for e in entry_ids}
    records = app.store_recorder.select_streams([UUID(e) for e in entry_ids])
    for record in records:
        by_stream[str(record.stored.originator_id)].append(record)
    with signature_checks(app, len(records)) as checks:
        found: dict[str, list[Checked]] = {}
        bad: set[str] = set()
        for entry_id, stream in by_stream.items():
            jobs: list[SignatureJob] = []
            found[entry_id] = app.verifier.check_stream(stream, defer=jobs)
            checks.add(entry_id, jobs)
            if not all(c.valid for c in found[entry_id]):
                bad.add(entry_id)
        bad.update(checks.failing())
    # Each bad stream is checked again one event at a time, naming every failure in it.
    failures = [
        f for e in sorted(bad) for c in app.signed_events.check(UUID(e)) for f in c.failures()
    ]
    if failures:
        raise IntegrityFailure(failures)
    for checked in found.values():
        prev = GENESIS_PREV
        for item in checked:
            digest = state_hash(item.record.stored.state)
            app.verifier.verified.remember(item.record, prev, digest)
            prev = digest
    return found


class SignatureChecks:
    """Deferred Ed25519 checks, by stream: run here, or sent in chunks to a process pool."""

    def __init__(self, pool: ProcessPoolExecutor | None) -> None:
        self.pool = pool
        self.jobs: list[SignatureJob] = []
        self.owners: list[str] = []  # the stream of each job not yet sent
        self.sent: list[tuple[list[str], Future[list[int]]]] = []
        self.bad: set[str] = set()

    def add(self, stream: str, jobs: list[SignatureJob]) -> None:
        self.jobs += jobs
        self.owners += [stream] * len(jobs)
        if self.pool is not None and len(self.jobs) >= CHUNK:
            self.sent.append((self.owners, self.pool.submit(failing_jobs, self.jobs)))
            self.jobs, self.owners = [], []

    def failing(self) -> list[str]:
        """The streams with a signature that does not verify."""
        bad = {self.owners[i] for i in failing_jobs(self.jobs)}
        bad.update(owners[i] for owners, future in self.sent for i in future.result())
        return sorted(bad)


@contextmanager
def signature_checks(app: WatchlistApp, events: int) -> Iterator[SignatureChecks]:
    """Signature checks on every core for a read of many events, else in this process."""
    workers = os.cpu_count() or 1
    if events < PARALLEL_SIGNATURES or workers == 1:
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
