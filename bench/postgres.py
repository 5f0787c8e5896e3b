"""PostgreSQL benchmark: ingest and read latency against SQLite, and 8 concurrent writers against one.

In one run, on a fresh schema of the PostgreSQL server named by ``--url`` (default
``WATCHLIST_TEST_DATABASE_URL``) and on a SQLite file:
- ingest rate: entries proposed and authorised through the application, one command per transaction;
- ``entry show`` latency: median verified read of one entry;
- combined throughput of 8 writer processes against 1 writer on PostgreSQL.

    python -m bench.postgres [--url postgresql://postgres@127.0.0.1:5432/test] [--entries 1000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from cryptography.hazmat.primitives import serialization

from bench.common import machine
from commands.documents import entry_view
from governance import clock
from governance.application import WatchlistApp
from governance.domain.proposal import parse_proposal
from governance.integrity.sealing import MasterKey
from governance.integrity.signing import Signer
from governance.storage.settings import StoreSettings
from tests.conftest import T0, World, entry_document, found_world


def fresh(home: Path, url: str | None) -> World:
    """A founded store on PostgreSQL (a new schema) or SQLite."""
    if url:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{url}?schema={schema}"
    settings = StoreSettings(home, url)
    MasterKey.create(settings.master_key_path)
    return found_world(settings)


def ingest(world: World, count: int) -> tuple[float, list[str]]:
    """Entries per second: propose then authorise each, one transaction per command."""
    proposal = parse_proposal(json.dumps(entry_document()))
    ids = []
    started = time.perf_counter()
    for _ in range(count):
        entry = world.app.entries.propose(world.custodian, proposal)
        world.app.entries.authorise(world.authoriser, entry.id, "Necessary and proportionate.")
        ids.append(str(entry.id))
    return count / (time.perf_counter() - started), ids


def show_latency(world: World, ids: list[str], samples: int = 300) -> float:
    """Median seconds to read and verify one entry's record."""
    rng, times = random.Random(3), []
    for _ in range(samples):
        started = time.perf_counter()
        entry_view(world.app.entries.get(uuid.UUID(rng.choice(ids))), clock.now())
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def der(signer: Signer) -> bytes:
    return signer._key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _writer(args: tuple[str, str, bytes, int]) -> int:
    home, url, key, count = args
    custodian = Signer("PC-1001", serialization.load_der_private_key(key, None))  # type: ignore[arg-type]
    app = WatchlistApp(StoreSettings(Path(home), url))
    proposal = parse_proposal(json.dumps(entry_document()))
    with clock.frozen(T0):
        for _ in range(count):
            app.entries.propose(custodian, proposal)
    app.close()
    return count


def writers(world: World, processes: int, each: int) -> float:
    """Entries per second proposed by ``processes`` concurrent writer processes."""
    args = [
        (str(world.settings.home), world.settings.database_url or "", der(world.custodian), each)
    ] * processes
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        pool.map(_writer, args[:1])  # warm up: imports and connection in one worker
        started = time.perf_counter()
        total = sum(pool.map(_writer, args))
        return total / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=os.environ.get("WATCHLIST_TEST_DATABASE_URL"))
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--each", type=int, default=150)
    args = parser.parse_args()
    if not args.url:
        raise SystemExit("set --url or WATCHLIST_TEST_DATABASE_URL to a PostgreSQL database")
    results: dict[str, Any] = {}
    with clock.frozen(T0), tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        for name, home, url in (("sqlite", a, None), ("postgresql", b, args.url)):
            world = fresh(Path(home), url)
            rate, ids = ingest(world, args.entries)
            results[name] = {"ingest": rate, "show": show_latency(world, ids)}
            if name == "postgresql":
                results["one"] = writers(world, 1, args.each * 2)
                results["eight"] = writers(world, 8, args.each)
            world.app.close()
    sqlite, pg = results["sqlite"], results["postgresql"]
    print(f"machine: {machine()}; PostgreSQL on the same machine over TCP")
    print(f"ingest (propose + authorise, one transaction per command): SQLite {sqlite['ingest']:,.0f} entries/s, "
          f"PostgreSQL {pg['ingest']:,.0f} entries/s; PostgreSQL/SQLite {pg['ingest'] / sqlite['ingest']:.2f}")  # fmt: skip
    print(
        f"entry show (verified read) median: SQLite {sqlite['show'] * 1000:.2f} ms, PostgreSQL {pg['show'] * 1000:.2f} ms"
    )
    print(f"PostgreSQL writers: 1 process {results['one']:,.0f} entries/s, 8 processes {results['eight']:,.0f} entries/s; "
          f"ratio {results['eight'] / results['one']:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
