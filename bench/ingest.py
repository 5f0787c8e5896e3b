"""Ingest benchmark: our signed, sealed application against a bare eventsourcing Application.

Both sides run on SQLite files in the same process, one command per transaction: propose then
authorise each entry. Ours signs (Ed25519), seals the subject (AES-GCM), checks the signer's standing
and verifies the entry's events on load; the baseline stores equivalent unsigned events.
Then a full ``audit verify`` is timed against the raw single-core Ed25519 verify rate.

    python -m bench.ingest [--entries 20000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.common import machine, rate, scratch_world
from governance import clock
from governance.domain.proposal import parse_proposal
from governance.services.store_audit import verify_store
from tests.conftest import T0, entry_document

STORE_FACTORY = "governance.storage.sqlite_pool:SQLiteStoreFactory"


class BareEntry(Aggregate):
    """The same facts as an Entry, unsigned and unsealed."""

    @event("Proposed")
    def __init__(
        self,
        subject: dict[str, Any],
        category: str,
        source_record_ref: str,
        objective: str,
        rationale: str,
        image: dict[str, Any],
        review_by: datetime,
        expires_at: datetime,
    ) -> None:
        self.status = "proposed"

    @event("Authorised")
    def authorise(self, officer: str, rationale: str) -> None:
        self.status = "active"


def bare_ingest(count: int, factory: str = "eventsourcing.sqlite") -> float:
    """Entries per second through a plain eventsourcing Application on SQLite.

    ``factory`` is the library's own by default; ``STORE_FACTORY`` gives the bare application the
    store's connection pool (a real statement cache), for comparison.
    """
    with tempfile.TemporaryDirectory() as home:
        app: Application[UUID] = Application(
            env={
                "PERSISTENCE_MODULE": factory,
                "SQLITE_DBNAME": str(Path(home) / "bare.sqlite"),
            }
        )
        document = entry_document()
        fields = {
            k: document[k]
            for k in ("subject", "category", "source_record_ref", "objective", "rationale", "image")
        }
        review_by, expires_at = (
            datetime.fromisoformat(document["review_by"]),
            datetime.fromisoformat(document["expires_at"]),
        )

        def run() -> None:
            for _ in range(count):
                entry = BareEntry(**fields, review_by=review_by, expires_at=expires_at)
                app.save(entry)
                loaded: BareEntry = app.repository.get(entry.id)
                loaded.authorise(officer="SUPT-2001", rationale="Necessary and proportionate.")
                app.save(loaded)

        _, per_second = rate(count, run)
        app.close()
        return per_second


def ours(count: int) -> dict[str, float]:
    """Entries per second through WatchlistApp, then the full verification rate."""
    proposal = parse_proposal(json.dumps(entry_document()))
    with scratch_world() as world:

        def run() -> None:
            for _ in range(count):
                entry = world.app.entries.propose(world.custodian, proposal)
                world.app.entries.authorise(
                    world.authoriser, entry.id, "Necessary and proportionate."
                )

        _, per_second = rate(count, run)
        fresh = world.reopen()
        events = fresh.position()
        _seconds, verify_rate = rate(events, lambda: verify_report(fresh))
        fresh.close()
        return {"ingest": per_second, "verify": verify_rate, "events": events}


def verify_report(app: Any) -> None:
    report = verify_store(app)
    assert report.ok, report.failures[:3]


def raw_verify_rate(samples: int = 20000) -> float:
    """Raw single-core Ed25519 verifications per second with ``cryptography``."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    message = b"x" * 600
    signature = key.sign(message)

    def run() -> None:
        for _ in range(samples):
            public.verify(signature, message)

    _, per_second = rate(samples, run)
    return per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=20_000)
    args = parser.parse_args()
    with clock.frozen(T0):
        bare = bare_ingest(args.entries)
        mine = ours(args.entries)
        bare_cached = bare_ingest(args.entries, STORE_FACTORY)
    raw = raw_verify_rate()
    print(f"machine: {machine()}")
    print(f"entries: {args.entries} (propose + authorise each, one transaction per command)")
    print(f"bare eventsourcing ingest: {bare:,.0f} entries/s")
    print(f"watchlist ingest (signed, sealed, verified): {mine['ingest']:,.0f} entries/s")
    print(f"ingest ratio ours/bare: {mine['ingest'] / bare:.2f} (target >= 0.5)")
    print(
        f"bare eventsourcing with the store's statement-caching connections: {bare_cached:,.0f} "
        f"entries/s (ratio ours/that: {mine['ingest'] / bare_cached:.2f})"
    )
    print(f"raw Ed25519 verify, one core: {raw:,.0f} signatures/s")
    print(f"audit verify: {mine['verify']:,.0f} events/s over {mine['events']:,} events")
    print(f"verify ratio audit/raw single core: {mine['verify'] / raw:.2f} (target >= 0.7)")


if __name__ == "__main__":
    main()
