"""Building large stores through the real application, for the benchmarks.

Entries are created and decided with the real aggregates, sealed, signed and recorded through
``WatchlistApp`` (so every event goes through the signing event store and the Merkle recorder), in
batches of many aggregates per transaction. Two worker processes build in parallel on one SQLite
file. The clock is simulated: batch ``b`` happens ``b`` minutes after the start.

    python -m bench.build OUT_DIR --entries 100000 --events-per-entry 10 --deployment 10000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from governance import clock
from governance.application import WatchlistApp
from governance.domain.entry import Entry
from governance.domain.policy import DEFAULT
from governance.domain.proposal import parse_proposal
from governance.domain.vocabulary import Rank, ReviewOutcome, Role, SourceStatus
from governance.integrity import keys
from governance.integrity.sealing import MasterKey, seal
from governance.integrity.signing import Signer
from governance.storage.settings import StoreSettings
from tests.conftest import entry_document

START = datetime(2026, 6, 1, tzinfo=UTC)
BATCH = 250


@dataclass(frozen=True)
class Cast:
    """The officers the builder signs as (keys travel to workers as raw bytes)."""

    custodian: bytes
    authoriser: bytes
    reviewer: bytes

    def signer(self, officer_id: str, raw: bytes) -> Signer:
        return Signer(officer_id, serialization.load_der_private_key(raw, None))  # type: ignore[arg-type]


def raw(key: Any) -> bytes:
    """A private key's PKCS#8 DER bytes, unencrypted (bench stores only; never a real store's keys)."""
    der: bytes = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return der


def found(settings: StoreSettings) -> Cast:
    """Found the store and enrol the builder's officers."""
    MasterKey.create(settings.master_key_path)
    app = WatchlistApp(settings)
    admin, log = Signer("ADMIN-01", keys.generate()), keys.generate()
    with clock.frozen(START - timedelta(days=1)):
        app.officers.found(
            "bench.example/watchlist",
            "Admin",
            Rank.INSPECTOR,
            admin,
            keys.public_b64(log.public_key()),
        )
        cast_keys: dict[str, bytes] = {}
        for officer_id, rank, role in (
            ("PC-1", Rank.CONSTABLE, Role.CUSTODIAN),
            ("SUPT-1", Rank.SUPERINTENDENT, Role.AUTHORISER),
            ("INSP-1", Rank.INSPECTOR, Role.REVIEWER),
        ):
            officer_key = keys.generate()
            app.officers.enrol(
                admin,
                officer_id,
                officer_id,
                rank,
                frozenset({role}),
                keys.public_b64(officer_key.public_key()),
            )
            cast_keys[officer_id] = raw(officer_key)
    (settings.home / "log-key.der").write_bytes(raw(log))
    (settings.home / "ADMIN-01.der").write_bytes(raw(admin._key))
    for officer_id, der in cast_keys.items():
        (settings.home / f"{officer_id}.der").write_bytes(der)
    app.close()
    return Cast(cast_keys["PC-1"], cast_keys["SUPT-1"], cast_keys["INSP-1"])


def build_batch(
    app: WatchlistApp, cast: Cast, batch: int, size: int, events_per_entry: int
) -> list[str]:
    """Create ``size`` entries with ``events_per_entry`` events each; record them in few transactions."""
    custodian, authoriser = (
        cast.signer("PC-1", cast.custodian),
        cast.signer("SUPT-1", cast.authoriser),
    )
    reviewer = cast.signer("INSP-1", cast.reviewer)
    officer = app.officer("SUPT-1")
    at = START + timedelta(minutes=batch)
    with clock.frozen(at):
        proposal = parse_proposal(json.dumps(entry_document(source_record_ref="W-1")))
        entries = []
        for _ in range(size):
            entry_id = app.entries.new_id()
            sealed = seal(
                proposal.subject.model_dump(mode="json"), str(entry_id), app.entries.master_key
            )
            entry = Entry.propose(
                proposal, sealed.field, entry_id=entry_id, actor="PC-1", now=at, policy=DEFAULT
            )
            entries.append((entry, sealed))
        app.record(
            *(e for e, _ in entries),
            signer=custodian,
            subject_keys=[(s.key_ref, s.wrapped_key) for _, s in entries],
        )
        for entry, _ in entries:
            entry.authorise(officer, "Necessary and proportionate.", at, DEFAULT)
        app.record(*(e for e, _ in entries), signer=authoriser)
        checks = max(0, events_per_entry - 3)
        for step in range(checks):
            for entry, _ in entries:
                entry.verify_source(
                    "PC-1", SourceStatus.LIVE, at + timedelta(seconds=step + 1), None
                )
            app.record(*(e for e, _ in entries), signer=custodian)
        if events_per_entry >= 3:
            for entry, _ in entries:
                entry.review(
                    "INSP-1", ReviewOutcome.RETAIN, "Still wanted.", None, None, at, DEFAULT
                )
            app.record(*(e for e, _ in entries), signer=reviewer)
    return [str(e.id) for e, _ in entries]


_SHARED: dict[str, Any] = {}  # "next": the next batch to build, shared by the builder processes


def _share(counter: Any) -> None:
    _SHARED["next"] = counter


def _worker(args: tuple[str, Cast, int, int, int]) -> list[str]:
    """Build batches in the order they are taken from the shared counter.

    Taking batches in order (rather than a fixed half each) keeps the builders' simulated clocks
    within a batch or two of each other, so events are stored in (nearly) recorded-time order, as
    on a real store, and a full audit finds no backdated insert.
    """
    home, cast, batches, size, per_entry = args
    app = WatchlistApp(StoreSettings(Path(home)))
    ids = []
    while True:
        counter = _SHARED["next"]
        with counter.get_lock():
            batch = counter.value
            counter.value += 1
        if batch >= batches:
            break
        ids += build_batch(app, cast, batch, size, per_entry)
    app.close()
    return ids


def build(home: Path, entries: int, events_per_entry: int, workers: int = 2) -> dict[str, Any]:
    """Build a store of ``entries`` entries with ``events_per_entry`` events each."""
    settings = StoreSettings(home)
    home.mkdir(parents=True, exist_ok=True)
    cast = found(settings)
    batches = (entries + BATCH - 1) // BATCH
    started = time.perf_counter()
    context = multiprocessing.get_context("fork")
    counter = context.Value("q", 0)
    with context.Pool(workers, initializer=_share, initargs=(counter,)) as pool:
        parts = pool.map(_worker, [(str(home), cast, batches, BATCH, events_per_entry)] * workers)
    ids = [i for part in parts for i in part]
    seconds = time.perf_counter() - started
    app = WatchlistApp(settings)
    info = {
        "entries": len(ids),
        "events": app.position(),
        "seconds": seconds,
        "ids": ids,
        "cast": cast,
        "end": START + timedelta(minutes=batches),
    }
    app.close()
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--events-per-entry", type=int, default=10)
    args = parser.parse_args()
    info = build(args.out, args.entries, args.events_per_entry)
    (args.out / "built.txt").write_text(f"{info['seconds']:.1f} seconds to build\n")
    print(f"{info['events']:,} events over {info['entries']:,} entries in {info['seconds']:.0f} s")


if __name__ == "__main__":
    main()
