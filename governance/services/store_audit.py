"""Full verification of a store: every event, in store order.

Checks each event's envelope, stream placement, version sequence, hash chain, sealed hashes and
signer standing at its position (``governance.integrity.verifier``), the Merkle log, and any trusted
checkpoints (``governance.ledger.log_audit``). On a large store the per-event checks run in worker
processes on every core, each reading its own range of positions from the store, while this process
keeps the order-dependent ones (chains, versions, clock order, leaves) over their compact results.
Every failure is reported with its stream, version and position; verification never stops at the
first or skips one silently.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from governance.application import WatchlistApp
from governance.errors import Failure, GovernanceError, IntegrityFailure
from governance.integrity.envelope import GENESIS_PREV, EnvelopeError, state_hash
from governance.ledger import merkle
from governance.ledger.leaves import leaf_bytes
from governance.ledger.log import Ledger, open_checkpoint
from governance.ledger.log_audit import LOG, LogAudit, Trusted
from governance.storage.recorders import Record, Row
from governance.storage.settings import StoreSettings
from governance.times import parse_formatted, to_micros

#: Below this many events, everything is checked in-process (a pool costs more than it saves).
PARALLEL_THRESHOLD = 5000
CHUNK = 1000
#: Writers' clocks may disagree a little; more than this backwards is reported as backdating.
CLOCK_TOLERANCE = 5 * 60 * 1_000_000  # five minutes, in microseconds

#: One event's order-independent result: its position, stream and version, its problems, the
#: statement's prev link, its recorded_at (UTC microseconds), the hash of its stored bytes (the next
#: event's chain link) and its Merkle leaf hash.
Result = tuple[int, str, int, list[str], str | None, int | None, str, bytes]


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
        """No failure (the CLI's ``ok`` is stricter: ``verdict == "verified"``)."""
        return not self.failures

    @property
    def verdict(self) -> str:
        """``failed``; else ``unverified_tail`` when events follow the largest trusted checkpoint
        (given with ``--trusted`` or ``--since``); else ``verified``."""
        if self.failures:
            return "failed"
        return "unverified_tail" if self.unverified_tail else "verified"

    @property
    def unverified_tail(self) -> int | None:
        """Events after the largest trusted checkpoint (None when no checkpoint was given)."""
        return None if self.trusted_size is None else max(0, self.tree_size - self.trusted_size)


def audit_record(
    app: WatchlistApp,
    trusted: Sequence[tuple[str, str]] = (),
    since: tuple[str, str] | None = None,
) -> AuditReport:
    """``watchlist audit verify``: the store, its log, and the checkpoints a reader holds.

    ``trusted`` and ``since`` are (name, text) pairs of checkpoints. A trusted checkpoint that does
    not open is reported as a failure of the audit; a bad ``since`` checkpoint cannot anchor an
    incremental audit at all (IntegrityFailure).
    """
    ledger = Ledger(app)
    held, bad = _open_trusted(ledger, trusted)
    start, bad_start = _open_trusted(ledger, [since] if since else [])
    if bad_start:
        raise IntegrityFailure(bad_start)
    report = verify_store(app, held, since=start[0] if start else None)
    # The projection is an index, never evidence: its rows are checked against the verified events
    # (all of them, or those of entries and deployments with an event after the checkpoint; its
    # tree size is at most the position of its last event, so this checks a superset).
    from governance.services.projection_check import check_projection  # noqa: PLC0415

    report.failures = (
        bad + report.failures + check_projection(app, start[0].checkpoint.size if start else 0)
    )
    if trusted and not since:
        report.trusted_size = max((t.checkpoint.size for t in held), default=0)
    return report


def _open_trusted(
    ledger: Ledger, files: Sequence[tuple[str, str]]
) -> tuple[list[Trusted], list[Failure]]:
    """Open each trusted checkpoint; a bad one is an integrity failure, not a crash."""
    held, failures = [], []
    verifier = ledger.log_verifier()
    for name, text in files:
        try:
            held.append(Trusted(name, open_checkpoint(text, verifier, ledger.origin)))
        except GovernanceError as error:
            failures.append(Failure(LOG, None, None, f"trusted checkpoint {name}: {error.message}"))
    return held, failures


def verify_store(
    app: WatchlistApp,
    trusted: Sequence[Trusted] = (),
    workers: int | None = None,
    since: Trusted | None = None,
) -> AuditReport:
    """Verify the store, the Merkle log, and consistency with ``trusted``.

    With ``since`` (a trusted checkpoint), only what was appended after it is checked: the stored
    log must extend that checkpoint, and every later event must verify. The cost then grows with
    the number of new events, plus a logarithmic term.
    """
    workers = workers or os.cpu_count() or 1
    if app.position() < PARALLEL_THRESHOLD or workers == 1:
        return _scan(app, trusted, since, None)
    # Workers open their own connections; a PostgreSQL client's pool threads must not be forked.
    context = multiprocessing.get_context("fork" if app.settings.backend == "sqlite" else "spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_open, initargs=(app.settings,)
    ) as pool:
        return _scan(app, trusted, since, pool, workers)


def _scan(
    app: WatchlistApp,
    trusted: Sequence[Trusted],
    since: Trusted | None,
    pool: ProcessPoolExecutor | None,
    workers: int = 1,
) -> AuditReport:
    report = AuditReport()
    held = [*trusted, *([since] if since else [])]
    if held:
        report.trusted_size = max(t.checkpoint.size for t in held)
    recorder = app.store_recorder
    # The audit covers the store as it stands now, up to its last event or leaf (whichever is
    # later, so leaves left behind by deleted events are still reported); later appends wait.
    size, last = recorder.tree_size(), app.position()
    reader = recorder.tree_nodes()
    last = max([last, *(row[1] for row in reader.leaves(size - 1, 1) if size)])
    log = LogAudit(reader, size, list(trusted), since, last)
    order = _Order(app, log, report, since is not None)
    if since is not None:
        # A backdated insert right after the checkpoint is judged against what it covers.
        order.latest = _recorded_through(app, since.checkpoint.size)
    start = 1 if since is None else log.first_position()
    if pool is None:
        for chunk in _chunks(app, start, last):
            order.apply([check_row(app, row) for row in chunk])
    elif start is not None:
        in_flight: deque[Future[list[Result]]] = deque()
        for first in range(start, last + 1, CHUNK):
            in_flight.append(pool.submit(_check_range, first, min(first + CHUNK, last + 1)))
            if len(in_flight) > 4 * workers:  # bounded prefetch keeps memory flat
                order.apply(in_flight.popleft().result())
        while in_flight:
            order.apply(in_flight.popleft().result())
    report.failures += log.finish()
    if since is None:
        # Keys and sweep records are not appended events: the full audit accounts for them.
        report.failures += app.retention.unaccounted()
    report.tree_size, report.root = log.frontier.size, log.frontier.root()
    report.failures.sort(key=lambda f: (f.position or 0, f.problem))
    return report


def check_row(app: WatchlistApp, row: Row) -> Result:
    """Every order-independent check of one event, and the hashes the ordered checks need."""
    position, stream, version, topic, state = row
    digest = state_hash(state)
    leaf = merkle.leaf_hash(leaf_bytes(stream, version, topic, digest))
    try:
        envelope = app.codec.decode(state, typed=False)
    except EnvelopeError as error:
        return position, stream, version, [str(error)], None, None, digest, leaf
    stored = StoredEvent(originator_id=stream, originator_version=version, topic=topic, state=state)
    try:
        problems = app.verifier.check(Record(position, stored), envelope, None)
    except IntegrityFailure as error:
        problems = [f.problem for f in error.failures] or [error.message]
    recorded = envelope.statement.get("recorded_at")
    try:
        micros = None if recorded is None else to_micros(parse_formatted(recorded))
    except (TypeError, ValueError):
        micros = None
        problems.append("recorded_at is not a UTC instant")
    return position, stream, version, problems, envelope.prev, micros, digest, leaf


class _Order:
    """The checks that need store order: versions, hash chains, clock order, and the Merkle log."""

    def __init__(
        self, app: WatchlistApp, log: LogAudit, report: AuditReport, incremental: bool
    ) -> None:
        self.app, self.log, self.report, self.incremental = app, log, report, incremental
        self.heads: dict[str, tuple[int, str]] = {}
        self.latest: int | None = None  # the latest recorded_at so far, UTC microseconds

    def apply(self, results: list[Result]) -> None:
        for position, stream, version, problems, prev, recorded, digest, leaf in results:
            self.report.events += 1
            if stream not in self.heads and self.incremental:
                self.heads[stream] = _head_before(self.app, UUID(stream), version)
            last, expected = self.heads.get(stream, (0, GENESIS_PREV))
            found = list(problems)
            if version != last + 1:
                found.insert(0, f"version {last + 1} is missing from the stream (found "
                                f"{version} next): an event was deleted or moved")  # fmt: skip
            if prev is not None and prev != expected:
                found.append("hash chain broken: the previous-event hash does not match the stream")
            if recorded is not None:
                if self.latest is not None and recorded < self.latest - CLOCK_TOLERANCE:
                    found.append(
                        "recorded_at is earlier than an event stored before it: a backdated insert"
                    )
                self.latest = recorded if self.latest is None else max(self.latest, recorded)
            found += self.log.add(position, leaf)
            if found:
                self.report.failures += [Failure(stream, version, position, p) for p in found]
            self.heads[stream] = (version, digest)


def _recorded_through(app: WatchlistApp, size: int) -> int | None:
    """recorded_at (UTC microseconds) of the last event among the first ``size`` leaves."""
    leaves = app.store_recorder.tree_nodes().leaves(size - 1, 1) if size else []
    if not leaves:
        return None
    position = leaves[0][1]
    rows = [row for row in app.store_recorder.select_rows(position, 1) if row[0] == position]
    if not rows:
        return None  # reported by the log audit
    try:
        recorded = str(app.codec.decode(rows[0][4], typed=False).statement["recorded_at"])
        return to_micros(parse_formatted(recorded))
    except (EnvelopeError, KeyError, TypeError, ValueError):
        return None


def _head_before(app: WatchlistApp, stream: UUID, version: int) -> tuple[int, str]:
    """The (version, hash) of the stored event before ``version``, covered by the checkpoint."""
    if version == 1:
        return 0, GENESIS_PREV
    rows = app.store_recorder.select_records(stream, gt=version - 2, lte=version - 1)
    return (version - 1, state_hash(rows[0].stored.state)) if rows else (0, GENESIS_PREV)


def _chunks(app: WatchlistApp, start: int | None, last: int) -> Iterator[list[Row]]:
    """The events from position ``start`` to ``last`` in pages."""
    while start is not None and start <= last:
        page = [row for row in app.store_recorder.select_rows(start, CHUNK) if row[0] <= last]
        if page:
            yield page
        start = page[-1][0] + 1 if len(page) == CHUNK else None


# -- worker processes --------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _open(settings: StoreSettings) -> None:
    """Pool initializer: each worker opens its own connection to the store (never share across fork)."""
    _WORKER["app"] = WatchlistApp(settings)


def _check_range(start: int, end: int) -> list[Result]:
    """Check the events at positions ``start`` <= p < ``end``, read by this worker itself."""
    app = _WORKER["app"]
    rows = app.store_recorder.select_rows(start, end - start)
    return [check_row(app, row) for row in rows if row[0] < end]
