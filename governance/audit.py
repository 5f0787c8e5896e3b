"""Full verification of a store: every event, in store order.

Checks each event's envelope, stream placement, version sequence, hash chain, sealed hashes and
signer standing at its position (``governance.verification``). The Ed25519 checks, the bulk of the
work, run in parallel on every core for large stores. Every failure is reported with its stream,
version and position; verification never stops at the first or skips one silently.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.persistence import Notification

from governance import merkle
from governance.envelope import GENESIS_PREV, EnvelopeError, state_hash
from governance.errors import Failure, IntegrityFailure
from governance.log_audit import LogAudit, Trusted
from governance.recorders import Record
from governance.store import StoreCore
from governance.verification import BAD_SIGNATURE, SignatureJob

PAGE = 1000
#: Below this many events, signatures are checked in-process (a pool costs more than it saves).
PARALLEL_THRESHOLD = 5000
BATCH = 20_000
CHUNK = 1000
#: Writers' clocks may disagree a little; more than this backwards is reported as backdating.
CLOCK_TOLERANCE = timedelta(minutes=5)


@dataclass
class AuditReport:
    """Outcome of ``watchlist audit verify``."""

    events: int = 0
    failures: list[Failure] = field(default_factory=list)
    tree_size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    trusted_size: int | None = None

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def unverified_tail(self) -> int | None:
        """Events after the largest trusted checkpoint (None when no checkpoint was given)."""
        return None if self.trusted_size is None else max(0, self.tree_size - self.trusted_size)


def verify_store(
    app: StoreCore,
    trusted: Sequence[Trusted] = (),
    workers: int | None = None,
    since: Trusted | None = None,
) -> AuditReport:
    """Verify the store, the Merkle log, and consistency with ``trusted``.

    With ``since`` (a trusted checkpoint), only what was appended after it is checked: the stored
    log must extend that checkpoint, and every later event must verify. The cost then grows with
    the number of new events, plus a logarithmic term.
    """
    total = app.position()
    workers = workers or os.cpu_count() or 1
    if total < PARALLEL_THRESHOLD or workers == 1:
        return _scan(app, None, trusted, since)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return _scan(app, pool, trusted, since)


def _scan(
    app: StoreCore,
    pool: ProcessPoolExecutor | None,
    trusted: Sequence[Trusted],
    since: Trusted | None,
) -> AuditReport:
    report = AuditReport()
    held = [*trusted, *([since] if since else [])]
    if held:
        report.trusted_size = max(t.checkpoint.size for t in held)
    log = LogAudit(
        app.store_recorder.tree_nodes(), app.store_recorder.tree_size(), list(trusted), since
    )
    latest: datetime | None = None
    heads: dict[UUID, tuple[int, str]] = {}
    jobs: list[SignatureJob] = []
    places: list[tuple[str, int, int]] = []
    start = 1 if since is None else log.first_position()
    for note in _notifications(app, start):
        report.events += 1
        stream = UUID(str(note.originator_id))
        if stream not in heads and since is not None:
            heads[stream] = _head_before(app, stream, note.originator_version)
        version, prev = heads.get(stream, (0, GENESIS_PREV))
        problems = []
        if note.originator_version != version + 1:
            problems.append(
                f"version {version + 1} is missing from the stream (found "
                f"{note.originator_version} next): an event was deleted or moved"
            )
        try:
            envelope = app.codec.decode(note.state)
        except EnvelopeError as error:
            problems.append(str(error))
        else:
            before = len(jobs)
            try:
                problems += app.verifier.check(
                    Record(note.id, note), envelope, prev, None if pool is None else jobs
                )
            except IntegrityFailure as error:
                problems += [f.problem for f in error.failures] or [error.message]
            if len(jobs) > before:
                places.append((str(stream), note.originator_version, note.id))
            if latest and envelope.recorded_at < latest - CLOCK_TOLERANCE:
                problems.append(
                    "recorded_at is earlier than an event stored before it: a backdated insert"
                )
            latest = max(latest or envelope.recorded_at, envelope.recorded_at)
        problems += log.add(note.id, note)
        report.failures += [
            Failure(str(stream), note.originator_version, note.id, p) for p in problems
        ]
        heads[stream] = (note.originator_version, state_hash(note.state))
        if pool is not None and len(jobs) >= BATCH:
            _settle(pool, jobs, places, report)
    if pool is not None and jobs:
        _settle(pool, jobs, places, report)
    report.failures += log.finish()
    report.tree_size, report.root = log.frontier.size, log.frontier.root()
    report.failures.sort(key=lambda f: (f.position or 0, f.problem))
    return report


def _head_before(app: StoreCore, stream: UUID, version: int) -> tuple[int, str]:
    """The (version, hash) of the stored event before ``version``, covered by the checkpoint."""
    if version == 1:
        return 0, GENESIS_PREV
    rows = app.store_recorder.select_records(stream, gt=version - 2, lte=version - 1)
    return (version - 1, state_hash(rows[0].stored.state)) if rows else (0, GENESIS_PREV)


def _notifications(app: StoreCore, start: int | None = 1) -> Iterator[Notification]:
    if start is None:
        return
    while True:
        page = app.recorder.select_notifications(start, PAGE)
        yield from page
        if len(page) < PAGE:
            return
        start = page[-1].id + 1


def _settle(
    pool: ProcessPoolExecutor,
    jobs: list[SignatureJob],
    places: list[tuple[str, int, int]],
    report: AuditReport,
) -> None:
    """Run the deferred signature checks and record the ones that fail."""
    chunks = [jobs[i : i + CHUNK] for i in range(0, len(jobs), CHUNK)]
    for offset, bad in zip(range(0, len(jobs), CHUNK), pool.map(failing_jobs, chunks), strict=True):
        for index in bad:
            stream, version, position = places[offset + index]
            report.failures.append(Failure(stream, version, position, BAD_SIGNATURE))
    jobs.clear()
    places.clear()


def failing_jobs(chunk: Sequence[SignatureJob]) -> list[int]:
    """Indexes of the jobs in ``chunk`` whose signatures do not verify (runs in a worker)."""
    return [i for i, job in enumerate(chunk) if not job.holds()]
