"""The retention sweep: expire lapsed entries, erase personal data past retention, record the run.

Each action is its own transaction and is skipped if already done, so the sweep is idempotent and
a run killed at any point leaves no half-done work: the next run completes it. A lock makes runs
exclusive. The run's record (counts, overdue and expiring entries) is written last; a run killed
before it is recorded by the next run (its counts marked ``interrupted``), and until then the
audit reports the erasures that cite it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID, uuid4

from governance import clock
from governance.application import WatchlistApp
from governance.domain.permissions import Action
from governance.errors import Conflict, RuleViolation
from governance.integrity.signing import Signer
from projections.retention import due as find_due

ERASURE_REASON = "retention period ended"


class DueLists(Protocol):
    """What is due (``projections.retention.Due``)."""

    expire: list[str]
    review_overdue: list[str]
    expiring_soon: list[str]
    erase: list[str]
    held: list[str]


@dataclass
class SweepResult:
    """Counts for ``watchlist sweep``."""

    run_id: str
    expired: list[str] = field(default_factory=list)
    erased: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    dry_run: bool = False

    def document(self, due: DueLists) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "expired": len(self.expired),
            "review_overdue": len(due.review_overdue),
            "expiring_soon": len(due.expiring_soon),
            "erased": len(self.erased),
            "held": len(due.held),
            "review_overdue_entries": due.review_overdue,
            "expiring_soon_entries": due.expiring_soon,
        }


def scheduled_sweep(
    app: WatchlistApp,
    signer: Signer | None,
    dry_run: bool,
    progress_for: Callable[[int], Callable[[int], None]] = lambda _: lambda _n: None,
) -> dict[str, Any]:
    """``watchlist sweep``: under the store's sweep lock, find what is due now and carry it out.

    ``progress_for(total)`` is told how many actions are due and returns what to call as each is
    done (the CLI's progress bar). A dry run needs no signer and changes nothing.
    """
    with exclusive(app):
        now = clock.now()
        pending = find_due(app, now, app.policies.at(now).document)
        advance = progress_for(len(pending.expire) + len(pending.erase))
        result = sweep(app, signer, pending, dry_run, advance)  # type: ignore[arg-type]
    return result.document(pending)


def sweep(
    app: WatchlistApp,
    signer: Signer,
    due: DueLists,
    dry_run: bool = False,
    progress: Callable[[int], None] = lambda _: None,
) -> SweepResult:
    """Carry out what is due. Entries whose state changed meanwhile are left for the next run."""
    result = SweepResult(str(uuid4()), dry_run=dry_run)
    if not dry_run:
        app.authenticate(signer, Action.RECORD_SWEEP, fresh=True)  # refuse before acting
        # A sweep killed after acting but before its run record: record that run now.
        for run_id, counts in app.retention.interrupted_runs().items():
            app.retention.record_sweep(signer, run_id, counts, [], [], [])
    if dry_run:
        result.expired, result.erased = list(due.expire), list(due.erase)
        return result
    for entry_id in due.expire:
        try:
            app.retention.expire(signer, UUID(entry_id), result.run_id)
            result.expired.append(entry_id)
        except (RuleViolation, Conflict):
            result.skipped.append(entry_id)
        progress(1)
    for entry_id in due.erase:
        try:
            app.retention.erase(signer, UUID(entry_id), ERASURE_REASON, result.run_id)
            result.erased.append(entry_id)
        except (RuleViolation, Conflict):
            result.skipped.append(entry_id)
        progress(1)
    counts = {
        "expired": len(result.expired),
        "erased": len(result.erased),
        "held": len(due.held),
        "review_overdue": len(due.review_overdue),
        "expiring_soon": len(due.expiring_soon),
    }
    app.retention.record_sweep(
        signer, result.run_id, counts, due.review_overdue, due.expiring_soon, due.held
    )
    return result


@contextmanager
def exclusive(app: WatchlistApp) -> Iterator[None]:
    """Hold the store's sweep lock, or refuse at once if another sweep holds it."""
    if app.settings.backend == "sqlite":
        path = app.settings.home / "sweep.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise Conflict(
                "sweep: another sweep is running on this store; try again when it ends"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        return
    with app.advisory_lock("watchlist-sweep") as acquired:
        if not acquired:
            raise Conflict("sweep: another sweep is running on this store; try again when it ends")
        yield
