"""Verification benchmark: full audit rate, incremental verification, inclusion proof size.

On the ~1,000,000-event bench store (``bench.build``) and a 10,000-event store, in one run:
- full ``audit verify`` rate against the raw Ed25519 verify rate of ``cryptography`` on one core,
  (target >= 0.7 x cores x single-core raw);
- incremental verification from a checkpoint 1,000 events old, at 10,000 and at 1,000,000 events
  (target ratio <= 1.5);
- the size of an inclusion proof at 1,000,000 events.

    python -m bench.verify [--store bench/out/store-1m]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.common import machine
from bench.pointintime import store
from governance.application import WatchlistApp
from governance.ledger import checkpoints, notes
from governance.ledger.log import Ledger, open_checkpoint
from governance.ledger.log_audit import Trusted
from governance.services.store_audit import verify_store
from governance.storage.settings import StoreSettings


def raw_rate(samples: int = 20_000) -> float:
    """Single-core Ed25519 verifications per second on a statement-sized message."""
    key = Ed25519PrivateKey.generate()
    public, message = key.public_key(), b"x" * 700
    signature = key.sign(message)
    started = time.perf_counter()
    for _ in range(samples):
        public.verify(signature, message)
    return samples / (time.perf_counter() - started)


def all_cores_rate(cores: int, samples: int = 20_000) -> float:
    """Ed25519 verifications per second with every core verifying at once (one process each)."""
    with ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("fork")) as pool:
        return sum(pool.map(raw_rate, [samples] * cores))


def checkpoint_at(app: WatchlistApp, size: int) -> Trusted:
    """A checkpoint the log signed when it had ``size`` leaves (signed now with the bench log key)."""
    ledger = Ledger(app)
    log_key = serialization.load_der_private_key(
        (app.settings.home / "log-key.der").read_bytes(), None
    )
    assert isinstance(log_key, Ed25519PrivateKey)
    body = checkpoints.Checkpoint(ledger.origin, size, ledger.root(size)).body()
    text = notes.sign_note(body, ledger.origin, log_key)
    return Trusted(f"size-{size}", open_checkpoint(text, ledger.log_verifier(), ledger.origin))


def incremental(app: WatchlistApp, behind: int = 1000, runs: int = 5) -> float:
    """Median seconds to verify the last ``behind`` events from a checkpoint."""
    since = checkpoint_at(app, Ledger(app).size() - behind)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        report = verify_store(app, since=since)
        times.append(time.perf_counter() - started)
        assert report.ok and report.events == behind, report.failures[:3]
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, default=Path("bench/out/store-1m"))
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as home:
        store(Path(home), 1_000)
        small = WatchlistApp(StoreSettings(Path(home)))
        small_events, small_seconds = small.position(), incremental(small)
        small.close()
    store(args.store, args.entries)
    app = WatchlistApp(StoreSettings(args.store))
    big_seconds = incremental(app)
    # The raw rates are taken just before and just after the audit and averaged, because this
    # machine's speed drifts over the two minutes the audit takes.
    before, all_before = raw_rate(), all_cores_rate(cores)
    started = time.perf_counter()
    report = verify_store(app)
    full = report.events / (time.perf_counter() - started)
    after, all_after = raw_rate(), all_cores_rate(cores)
    raw, together = (before + after) / 2, (all_before + all_after) / 2
    proof = Ledger(app).inclusion(app.position() // 2)
    print(f"machine: {machine()}")
    print(f"raw Ed25519 verify (cryptography), one core: {before:,.0f}/s before the audit, {after:,.0f}/s "
          f"after, mean {raw:,.0f}/s; x {cores} cores = {raw * cores:,.0f}/s")  # fmt: skip
    print(f"raw Ed25519 verify on all {cores} cores at once: {all_before:,.0f}/s before, "
          f"{all_after:,.0f}/s after, mean {together:,.0f}/s")  # fmt: skip
    print(f"full audit verify: {report.events:,} events at {full:,.0f}/s, ok={report.ok}; ratio to "
          f"cores x raw {full / (raw * cores):.2f} (target >= 0.7); to all cores at once "
          f"{full / together:.2f}")  # fmt: skip
    print(f"incremental verify of the last 1,000 events: {small_seconds * 1000:.0f} ms at {small_events:,} events, "
          f"{big_seconds * 1000:.0f} ms at {report.events:,}; ratio {big_seconds / small_seconds:.2f} (target <= 1.5)")  # fmt: skip
    print(
        f"inclusion proof at {proof.tree_size:,} leaves: {len(proof.proof)} hashes, {len(proof.proof) * 32} bytes"
    )
    app.close()


if __name__ == "__main__":
    main()
