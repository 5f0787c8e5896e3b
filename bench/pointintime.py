"""Point-in-time benchmark: inclusion latency, deployment reconstruction, naive replay baseline.

Builds (or reuses) a store of ~1,000,000 events over 100,000 entries through the real application
(``bench.build``), plus a 10,000-event store, and measures in one run:
- median ``inclusion`` latency at 10,000 and at 1,000,000 events (target ratio <= 1.5, < 5 ms),
  each answer about a time the entry existed, its events read and verified in full, as the CLI
  answers (``governance.services.inclusion.answer_inclusion``: judged from the verified events,
  the projection's rows for the entry checked against them);
- reconstruction of a 10,000-entry deployment, both views (target < 1 s), as the CLI's
  ``deployment reconstruct`` does it: ``governance.services.reconstruction.checked_reconstruction``,
  which reads the projection (an index) and checks every row against the signed compile, the
  signed policy and the verified events it cites. Each timed run starts with the process's memory
  of verified events cleared, as a fresh ``watchlist`` process would; five more runs follow with
  that memory kept (a process that reconstructed the deployment before). Measured against a naive
  replay of the events in the same run (target >= 50x faster), with its peak memory (< 300 MB).
  The unchecked projection read alone (``projections.reconstruction.reconstruct``) is printed too.

    python -m bench.pointintime [--store bench/out/store-1m] [--entries 100000]

A store of ``--entries`` entries (10 events each) is built at ``--store`` if none is there; each run
compiles a new deployment over the next 10,000 entries not used before, so a store of N entries
serves N / 10,000 runs (copy a freshly built store to re-run on the same one).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from bench.build import START, build
from bench.common import machine
from governance import clock
from governance.application import WatchlistApp
from governance.domain.deployment import UseCase
from governance.domain.facts import Fact, fold, resolve
from governance.domain.justification import assess
from governance.domain.vocabulary import Category, RemovalReason, SourceStatus
from governance.integrity.signing import Signer
from governance.integrity.verified_cache import VerifiedEvents
from governance.services.inclusion import KnownAt, answer_inclusion
from governance.services.reconstruction import checked_reconstruction
from governance.storage.settings import StoreSettings
from governance.times import from_micros, parse_formatted
from projections.reconstruction import Reconstruction, reconstruct
from projections.runner import catch_up, projection_store

DEPLOYMENT = 10_000


def store(path: Path, entries: int) -> dict[str, Any]:
    """Reuse a built store at ``path`` or build one."""
    marker = path / "built.txt"
    if marker.exists():
        app = WatchlistApp(StoreSettings(path))
        ids = [str(n.originator_id) for n in app.notifications(["watchlist:Entry.Proposed"])]
        app.close()
        return {"ids": ids, "seconds": float(marker.read_text().split()[0]), "reused": True}
    info = build(path, entries, 10)
    marker.write_text(f"{info['seconds']:.1f} seconds to build\n")
    return {**info, "reused": False}


def inclusion_latencies(
    stores: list[tuple[WatchlistApp, list[str]]], samples: int = 1000
) -> list[float]:
    """Median seconds of one ``inclusion`` answer on each store, samples interleaved across them.

    Each sample asks about a random entry at a random instant between its proposal and the end of
    the build, so every answer rests on the entry's events and reads and verifies them in full,
    as a fresh process would: the process's memory of verified events is cleared before each one
    (otherwise the small store, whose entries recur among the samples, would mostly answer from
    that memory). Interleaving makes any drift of the machine's speed fall on every store alike.
    """
    rng = random.Random(7)
    plans = [[(UUID(e), t) for e, t in questions(app, ids, samples, rng)] for app, ids in stores]
    times: list[list[float]] = [[] for _ in stores]
    for index in range(samples):
        for (app, _), plan, found in zip(stores, plans, times, strict=True):
            app.verifier.verified = VerifiedEvents()
            entry, at = plan[index]
            started = time.perf_counter()
            answer_inclusion(app, entry, at, KnownAt())
            found.append(time.perf_counter() - started)
    return [statistics.median(found) for found in times]


def questions(
    app: WatchlistApp, ids: list[str], samples: int, rng: random.Random
) -> list[tuple[str, datetime]]:
    """``samples`` (entry, instant) pairs, each instant between the entry's proposal and the end."""
    catch_up(app)
    end = START + timedelta(minutes=len(ids) // 250 + 1)
    chosen = [rng.choice(ids) for _ in range(samples)]
    with projection_store(app).reading() as tx:
        proposed = [
            from_micros(int(row[0]))
            for entry in chosen
            for row in tx.all(
                "SELECT c.recorded_at FROM {t}wl_entries e JOIN {t}wl_clock c "
                "ON c.position = e.proposed_position WHERE e.entry_id = ?",
                (entry,),
            )
        ]
    return [(e, p + (end - p) * rng.random()) for e, p in zip(chosen, proposed, strict=True)]


def deploy(app: WatchlistApp, ids: list[str]) -> tuple[UUID, float]:
    """Authorise, compile (through the gate) and start a deployment of 10,000 entries.

    Each run on a reused store takes the next 10,000 entries from the end and starts after the
    store's last recorded event, so the store stays valid (no backdated insert) and re-runnable.
    """
    runs = sum(1 for _ in app.notifications(["watchlist:Deployment.Compiled"]))
    catch_up(app)
    with projection_store(app).reading() as tx:  # the latest active entries not used before
        rows = tx.all(
            "SELECT entry_id FROM {t}wl_entries WHERE status = 'active' "
            "ORDER BY proposed_position DESC LIMIT ? OFFSET ?",
            (DEPLOYMENT, runs * DEPLOYMENT),
        )
    window = [UUID(str(r[0])) for r in rows]
    built_end = START + timedelta(minutes=len(ids) // 250 + 1)
    end = max(built_end, last_recorded(app) + timedelta(minutes=1))
    keys = load_cast(app)
    if end > built_end:  # a rerun: the window's sources are re-checked, as before any deployment
        with clock.frozen(end):
            for entry_id in window:
                app.entries.verify_source(
                    keys["PC-1"], entry_id, SourceStatus.LIVE, None, "PNC re-check"
                )
        end += timedelta(minutes=1)
    with clock.frozen(end):
        deployment = app.deployments.authorise(
            keys["SUPT-1"], "Bench Station", "Sought people pass through it", "Benchmark objective",
            UseCase.HOTSPOT, [Category.WANTED_ON_WARRANT], end + timedelta(hours=1), end + timedelta(hours=9),
        )  # fmt: skip
        started = time.perf_counter()
        app.deployments.compile(keys["PC-1"], deployment.id, window)
        compile_seconds = time.perf_counter() - started
    with clock.frozen(end + timedelta(hours=1)):
        app.deployments.start(keys["SUPT-1"], deployment.id)
    with clock.frozen(end + timedelta(days=7)):
        go_live = end + timedelta(hours=1)
        for entry_id in window[:100]:
            app.entries.remove(keys["PC-1"], entry_id, RemovalReason.ARRESTED_OR_LOCATED, go_live - timedelta(days=1),
                       None, "Learned late", "REF")  # fmt: skip
    return deployment.id, compile_seconds


def last_recorded(app: WatchlistApp) -> datetime:
    """When the store's last event was recorded."""
    (row,) = app.store_recorder.select_rows(app.position(), 1)
    recorded = app.codec.decode(row[4], typed=False).statement["recorded_at"]
    return parse_formatted(recorded)


def load_cast(app: WatchlistApp) -> dict[str, Signer]:
    """The builder's officers (their keys were kept beside the bench store)."""
    from cryptography.hazmat.primitives import serialization

    found = {}
    for officer_id in ("PC-1", "SUPT-1", "INSP-1"):
        raw = (app.settings.home / f"{officer_id}.der").read_bytes()
        found[officer_id] = Signer(officer_id, serialization.load_der_private_key(raw, None))  # type: ignore[arg-type]
    return found


def naive(app: WatchlistApp, deployment_id: UUID) -> dict[str, tuple[bool, bool]]:
    """Replay every event from the log directly, per entry and per view (no projection)."""
    deployment = app.deployments.get(deployment_id)
    assert deployment.compilation is not None
    compiled = deployment.compilation
    wanted = {m["entry_id"] for m in compiled["manifest"]} | {
        x["entry_id"] for x in compiled["excluded"]
    }
    basis, at = int(deployment.compilation["basis"]), deployment.go_live
    facts: dict[str, list[tuple[int, Fact]]] = defaultdict(list)
    start = 1
    while True:
        rows = app.store_recorder.select_rows(start, 5000)
        for position, stream, version, topic, state in rows:
            if stream in wanted:
                envelope = app.codec.decode(state)
                data = app.codec.event_state(envelope)
                facts[stream].append(
                    (
                        position,
                        Fact(
                            version,
                            topic.rpartition(".")[2],
                            envelope.effective_at,
                            envelope.actor,
                            data,
                        ),
                    )
                )
        if len(rows) < 5000:
            break
        start = rows[-1][0] + 1
    policy = app.policies.at(at).document
    verdicts = {}
    for entry_id, known in facts.items():
        then = fold(resolve([f for p, f in known if p <= basis]), at)
        now = fold(resolve([f for _, f in known]), at)
        verdicts[entry_id] = (
            assess(then, at, policy, deployment.categories).justified,
            assess(now, at, policy, deployment.categories).justified,
        )
    return verdicts


def timed(
    action: Callable[[], Reconstruction], app: WatchlistApp, cold: bool = True, times: int = 5
) -> tuple[list[float], Reconstruction]:
    """Seconds of ``times`` runs of ``action`` (the median of five: this machine's speed wanders
    by 20% run to run). ``cold``: each with the memory of verified events cleared, as in a fresh
    process; else each after the run before it, as in a process that reconstructed it before."""
    runs = []
    for _ in range(times):
        if cold:
            app.verifier.verified = VerifiedEvents()
        started = time.perf_counter()
        result = action()
        runs.append(time.perf_counter() - started)
    return runs, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, default=Path("bench/out/store-1m"))
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as small_home:
        small = store(Path(small_home), 1_000)
        small_app = WatchlistApp(StoreSettings(Path(small_home)))
        small_events = small_app.position()
        big = store(args.store, args.entries)
        app = WatchlistApp(StoreSettings(args.store))
        started = time.perf_counter()
        catch_up(app)
        projection_seconds = time.perf_counter() - started
        deployment_id, compile_seconds = deploy(app, big["ids"])
        catch_up(app)
        events = app.position()
        small_latency, big_latency = inclusion_latencies(
            [(small_app, small["ids"]), (app, big["ids"])]
        )
        small_app.close()
    checked_reconstruction(app, deployment_id)  # warm the page cache, as a second reader finds it
    runs, result = timed(lambda: checked_reconstruction(app, deployment_id), app)
    reconstruct_seconds = statistics.median(runs)
    warm_runs, _ = timed(lambda: checked_reconstruction(app, deployment_id), app, cold=False)
    unchecked_runs, _ = timed(lambda: reconstruct(app, deployment_id), app)
    app.verifier.verified = VerifiedEvents()
    tracemalloc.start()  # a separate run: tracing allocations slows Python several times over
    checked_reconstruction(app, deployment_id)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    started = time.perf_counter()
    replayed = naive(app, deployment_id)
    naive_seconds = time.perf_counter() - started
    mismatches = [
        e
        for e in result.entries
        if replayed.get(e["entry_id"]) != (e["then"]["justified"], e["now"]["justified"])
    ]
    print(f"machine: {machine()}")
    print(f"store: {events:,} events over {len(big['ids']):,} entries (built in {big['seconds']:.0f} s"
          f"{', reused' if big['reused'] else ''}); projection caught up in {projection_seconds:.0f} s")  # fmt: skip
    print(f"inclusion median latency (judged from events verified in full, rows checked): {small_latency * 1000:.2f} ms at {small_events:,} events, "
          f"{big_latency * 1000:.2f} ms at {events:,} events; ratio {big_latency / small_latency:.2f} "
          f"(target <= 1.5 and < 5 ms)")  # fmt: skip
    print(f"deployment of {len(result.entries):,} entries compiled through the gate in {compile_seconds:.1f} s; "
          f"classes {result.to_json()['summary']}; manifest matches: {result.manifest_matches}")  # fmt: skip
    print(f"reconstruction, both views, checked against the verified events (the CLI's path): "
          f"{reconstruct_seconds:.2f} s, median of 5 ({min(runs):.2f} to {max(runs):.2f}) "
          f"(target < 1 s); peak memory {peak / 2**20:.0f} MB (target < 300 MB)")  # fmt: skip
    print(f"the same in a process that verified these events before (verified-event memory warm): "
          f"{statistics.median(warm_runs):.2f} s, median of 5 ({min(warm_runs):.2f} to {max(warm_runs):.2f})")  # fmt: skip
    print(f"of which the projection read alone (unchecked): {statistics.median(unchecked_runs):.2f} s, "
          f"median of 5")  # fmt: skip
    print(f"naive replay of the events: {naive_seconds:.1f} s; speed-up {naive_seconds / reconstruct_seconds:.0f}x "
          f"(target >= 50x); views that disagree with the replay: {len(mismatches)}")  # fmt: skip
    app.close()


if __name__ == "__main__":
    main()
