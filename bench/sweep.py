"""Sweep benchmark: a retention sweep over 100,000 due entries against the ingest rate.

Builds a fresh store of 100,000 entries through the real application, moves the clock past
their expiry, and measures in one run on the same store:
- the sweep's rate (entries expired per second, one signed event and transaction each);
- the ingest rate (entries proposed per second through the application, one transaction each);
- the peak memory of the process running the sweep (resident set, ``getrusage``).
Targets: sweep rate >= 0.5 x ingest rate; peak memory < 300 MB.

    python -m bench.sweep [--entries 100000]   (builds a fresh store in a temporary directory)
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.build import START, build
from bench.common import machine
from bench.pointintime import load_cast
from governance import clock
from governance.application import WatchlistApp
from governance.domain.proposal import parse_proposal
from governance.domain.vocabulary import Rank, Role
from governance.integrity import keys
from governance.integrity.signing import Signer
from governance.services.sweep import exclusive, sweep
from governance.storage.settings import StoreSettings
from projections.retention import due
from projections.runner import catch_up
from tests.conftest import entry_document


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--ingest", type=int, default=2_000)
    args = parser.parse_args()
    # A sweep expires every due entry, so each run builds its own store (a reused one has none due).
    with tempfile.TemporaryDirectory(prefix="watchlist-sweep-") as home:
        run(Path(home), args.entries, args.ingest)


def run(home: Path, entries: int, ingest_count: int) -> None:
    """Build a store of ``entries`` at ``home``, then time ingest and the sweep on it."""
    build(home, entries, 3)
    app = WatchlistApp(StoreSettings(home))
    cast = load_cast(app)
    later = START + timedelta(days=200)
    with clock.frozen(later):
        scheduler = Signer("SCHED-1", keys.generate())
        started = time.perf_counter()
        catch_up(app)
        pending = due(app, clock.now(), app.policies.at(clock.now()).document)
        find_seconds = time.perf_counter() - started
        proposal = parse_proposal(json.dumps(entry_document()))
        started = time.perf_counter()
        for _ in range(ingest_count):
            app.entries.propose(cast["PC-1"], proposal)
        ingest = ingest_count / (time.perf_counter() - started)
        enrol_scheduler(app, scheduler)
        started = time.perf_counter()
        with exclusive(app):
            result = sweep(app, scheduler, pending)
        seconds = time.perf_counter() - started
    # The whole process's peak resident memory (conservative: it includes the projection catch-up
    # and the ingest). Not tracemalloc: tracing every allocation would slow the timed sweep.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    rate = len(result.expired) / seconds
    print(f"machine: {machine()}")
    print(
        f"due entries found from the projection in {find_seconds:.1f} s: {len(pending.expire):,} to expire"
    )
    print(f"ingest (propose, one transaction each): {ingest:,.0f} entries/s")
    print(f"sweep: {len(result.expired):,} expired in {seconds:.0f} s = {rate:,.0f} entries/s; "
          f"ratio to ingest {rate / ingest:.2f} (target >= 0.5); peak process memory {peak / 2**20:.0f} MB (target < 300 MB)")  # fmt: skip
    app.close()


def enrol_scheduler(app: WatchlistApp, scheduler: Signer) -> None:
    """Enrol the sweep's officer, signed by the bench store's administrator key when kept."""
    admin_key = app.settings.home / "ADMIN-01.der"
    from cryptography.hazmat.primitives import serialization

    admin = Signer("ADMIN-01", serialization.load_der_private_key(admin_key.read_bytes(), None))  # type: ignore[arg-type]
    app.officers.enrol(
        admin,
        scheduler.officer_id,
        "Sweep",
        Rank.CONSTABLE,
        frozenset({Role.SCHEDULER}),
        scheduler.public_key,
    )


if __name__ == "__main__":
    main()
