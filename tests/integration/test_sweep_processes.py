"""The retention sweep in real ``watchlist`` processes on a SQLite store: two at once, and killed.

A template store is built once, in-process, with the clock frozen about 400 days in the past: entries
whose expiry has long passed (some so long ago their data is also due for erasure), entries removed
long ago, entries under a legal hold, and recent entries the sweep must only report or leave alone.
Each test copies the template and runs ``watchlist --as SCHED-1 sweep --json`` in subprocesses that
use the real clock, then checks the whole store: the audit verifies, every due entry expired exactly
once, every due erasure happened exactly once with its key gone from the database files, held and
recent entries untouched, and a further sweep finds nothing to do.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from governance import clock
from governance.application import WatchlistApp
from governance.domain.retention import SweepRun, retention_stream
from governance.domain.vocabulary import Rank, RemovalReason, Role
from governance.integrity import keys
from governance.integrity.sealing import MasterKey
from governance.integrity.signing import Signer
from governance.services.store_audit import verify_store
from governance.services.sweep import exclusive, sweep
from governance.storage.settings import StoreSettings
from projections.retention import due
from tests.conftest import World, found_world

PASSPHRASE = "pw"
SCHEDULER = "SCHED-1"
KILLS = 20  # at least this many kills, each on a fresh copy of the template
MAX_KILLS = 32  # ...and more (up to this) until enough of them landed in the middle of a sweep
MID_SWEEP_KILLS = 5
SEED = 20261126
REFUSED_BY_LOCK = "another sweep is running"


def watchlist_executable() -> str:
    """The ``watchlist`` console script of this interpreter's environment.

    ``python -m commands.main`` would run nothing: the module has no ``__main__`` guard.
    """
    found = shutil.which("watchlist", path=os.path.dirname(sys.executable))
    assert found is not None, "the watchlist console script is not installed in this venv"
    return found


def sweep_command(home: Path, *extra: str) -> list[str]:
    return [
        watchlist_executable(),
        "--home",
        str(home),
        "--as",
        SCHEDULER,
        "sweep",
        "--json",
        *extra,
    ]


def sweep_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHLIST_")}
    return {**env, "WATCHLIST_PASSPHRASE": PASSPHRASE}


@dataclass
class Template:
    """A store built in the past, and what a sweep run now must do to it."""

    home: Path
    scheduler: Signer
    expire: list[str] = field(default_factory=list)  # listed entries whose expiry has passed
    erase: list[str] = field(default_factory=list)  # entries whose data is past retention
    held: list[str] = field(default_factory=list)  # past retention, but under a legal hold
    review_overdue: list[str] = field(default_factory=list)
    expiring_soon: list[str] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)  # every entry's version as built
    key_refs: dict[str, str] = field(default_factory=dict)
    wrapped: dict[str, str] = field(default_factory=dict)

    @property
    def work(self) -> int:
        """Actions a complete sweep takes (each its own transaction)."""
        return len(self.expire) + len(self.erase)


def document(world: World, at: datetime, review_days: int, expiry_days: int, n: int) -> Any:
    """An entry proposed at ``at`` with the given review and expiry offsets (days)."""
    from tests.conftest import proposal

    return proposal(
        subject={
            "name": f"Sweep Subject {n:03d}",
            "date_of_birth": "1980-05-17",
            "subject_ref": f"NOMINAL-SWEEP-{n:03d}",
        },
        image={
            "legal_basis": "custody image, PACE s.64A",
            "source": "custody",
            "captured_on": (at - timedelta(days=30)).date().isoformat(),
        },
        review_by=(at + timedelta(days=review_days)).isoformat(),
        expires_at=(at + timedelta(days=expiry_days)).isoformat(),
    )


def build_template(home: Path) -> Template:
    """Sixty entries built 400 days ago (and a few in the last month); see the module docstring."""
    real_now = datetime.now(UTC)
    built = real_now - timedelta(days=400)
    settings = StoreSettings(home)
    MasterKey.create(settings.master_key_path)
    key = keys.generate()
    template = Template(home, Signer(SCHEDULER, key))
    count = iter(range(1000))

    def add(world: World, at: datetime, review: int, expiry: int) -> str:
        entry = world.app.entries.propose(
            world.custodian, document(world, at, review, expiry, next(count))
        )
        world.app.entries.authorise(world.authoriser, entry.id, "Necessary and proportionate.")
        return str(entry.id)

    with clock.frozen(built) as time_:
        world = found_world(settings)
        app = world.app
        app.officers.enrol(
            world.admin, SCHEDULER, "Retention sweep", Rank.CONSTABLE,
            frozenset({Role.SCHEDULER}), template.scheduler.public_key,
        )  # fmt: skip
        keys.write_private_key(settings.officer_key_path(SCHEDULER), key, PASSPHRASE)
        # Expired ~220 days ago: to expire, and (past 180 days' retention) to erase.
        lapsed_long_ago = [add(world, built, 80, 180) for _ in range(20)]
        # Expired ~100 days ago: to expire only.
        lapsed_lately = [add(world, built, 80, 300) for _ in range(10)]
        removed = [add(world, built, 60, 180) for _ in range(15)]
        held = [add(world, built, 60, 180) for _ in range(3)]
        for entry_id in held:
            app.retention.place_hold(
                world.legal, UUID(entry_id), "CASE-2025-0042", "Evidence for trial"
            )
        time_.advance(timedelta(days=1))
        for entry_id in removed + held:
            app.entries.remove(
                world.custodian, UUID(entry_id), RemovalReason.CASE_CLOSED, None, "NFA"
            )
        time_.set(real_now - timedelta(days=30))
        overdue = [add(world, clock.now(), 28, 130) for _ in range(2)]
        time_.set(real_now - timedelta(days=1))
        soon = [add(world, clock.now(), 6, 8) for _ in range(2)]
        current = [add(world, clock.now(), 60, 180) for _ in range(8)]
        everyone = lapsed_long_ago + lapsed_lately + removed + held + overdue + soon + current
        assert len(everyone) == 60
        for entry_id in everyone:
            entry = app.entries.get(UUID(entry_id))
            template.versions[entry_id] = entry.version
            template.key_refs[entry_id] = str(entry.subject["key_ref"])
            wrapped = app.store_recorder.subject_key(template.key_refs[entry_id])
            assert wrapped is not None
            template.wrapped[entry_id] = wrapped
        app.close()
    template.expire = lapsed_long_ago + lapsed_lately
    template.erase = lapsed_long_ago + removed
    template.held = held
    template.review_overdue = overdue
    template.expiring_soon = soon
    return template


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return build_template(tmp_path_factory.mktemp("sweep-template") / "home")


@pytest.fixture
def store(template: Template, tmp_path: Path) -> Path:
    """A fresh copy of the template's home."""
    home = tmp_path / "home"
    shutil.copytree(template.home, home)
    return home


def stored_topics(home: Path) -> Counter[str]:
    """Events per type, read straight from the database file (no application, no locks taken)."""
    with sqlite3.connect(home / "watchlist.sqlite") as conn:
        rows = conn.execute("SELECT topic, COUNT(*) FROM stored_events GROUP BY topic").fetchall()
    conn.close()
    return Counter({str(topic): int(n) for topic, n in rows})


@dataclass
class Observed:
    """What a check of a store found besides correctness: how many sweep runs completed."""

    runs: int


def check_store(home: Path, template: Template) -> Observed:
    """Assert the store is complete and correct after sweeping; every check the module names."""
    app = WatchlistApp(StoreSettings(home))
    try:
        report = verify_store(app)
        assert report.ok, [f.describe() for f in report.failures]

        expired = Counter(
            str(n.originator_id) for n in app.notifications(["watchlist:Entry.Expired"])
        )
        assert expired == Counter(template.expire), "every due entry expires exactly once"
        erased = Counter(
            str(n.originator_id) for n in app.notifications(["watchlist:Retention.Erased"])
        )
        assert erased == Counter(str(retention_stream(UUID(e))) for e in template.erase), (
            "every entry past retention is erased exactly once"
        )
        opened = Counter(
            str(n.originator_id) for n in app.notifications(["watchlist:Retention.Opened"])
        )
        assert max(opened.values()) == 1

        for entry_id, built_version in template.versions.items():
            entry = app.entries.get(UUID(entry_id))
            extra = 1 if entry_id in template.expire else 0
            assert entry.version == built_version + extra, f"entry {entry_id} changed unexpectedly"
            key = app.store_recorder.subject_key(template.key_refs[entry_id])
            if entry_id in template.erase:
                assert key is None
                assert app.entries.erasure_recorded(entry.id)
                assert app.entries.has_subject_key(entry.id) is False
            else:
                assert key == template.wrapped[entry_id], f"entry {entry_id} lost its data key"
        for entry_id in template.held:
            record = app.retention.get(UUID(entry_id))
            assert record is not None
            assert record.held
            assert record.erased_at is None
            assert record.version == 2  # opened, hold placed: nothing since

        runs = [
            app.load(UUID(str(n.originator_id)), SweepRun, "sweep run")
            for n in app.notifications(["watchlist:SweepRun.Completed"])
        ]
        assert runs, "a completed sweep recorded its run"
        assert len({run.run_id for run in runs}) == len(runs)

        now = clock.now()
        pending = due(app, now, app.policies.at(now).document)
        assert (pending.expire, pending.erase) == ([], []), "a further sweep finds nothing to do"
        assert pending.held == template.held
        assert pending.review_overdue == template.review_overdue
        assert pending.expiring_soon == template.expiring_soon
    finally:
        app.close()
    files = b"".join(p.read_bytes() for p in sorted(home.glob("watchlist.sqlite*")))
    for entry_id in template.erase:
        assert template.wrapped[entry_id].encode() not in files, (
            f"the erased data key of {entry_id} is still in the database files"
        )
    return Observed(len(runs))


def complete_in_process(home: Path, template: Template) -> dict[str, Any]:
    """A sweep to the end, run the way the CLI runs it, in this process (real clock)."""
    app = WatchlistApp(StoreSettings(home))
    try:
        with exclusive(app):
            now = clock.now()
            pending = due(app, now, app.policies.at(now).document)
            return sweep(app, template.scheduler, pending).document(pending)
    finally:
        app.close()


def complete_by_cli(home: Path) -> dict[str, Any]:
    done = subprocess.run(
        sweep_command(home),
        env=sweep_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def lock_file(home: Path) -> Path:
    """The sweep's lock file: created by a sweep process when it starts work (not by the template)."""
    return home / "sweep.lock"


def wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 60.0) -> bool:
    """Wait until ``path`` exists (True) or ``proc`` has exited (False)."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            return False
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.002)
    return True


@dataclass(frozen=True)
class Swept:
    """A copy of the template swept by one ``watchlist`` process, then by a second one."""

    home: Path
    first: dict[str, Any]
    second: dict[str, Any]
    working_seconds: float  # from the first process taking the lock to its exit


@pytest.fixture(scope="module")
def swept(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Swept:
    home = tmp_path_factory.mktemp("swept") / "home"
    shutil.copytree(template.home, home)
    assert not lock_file(home).exists()
    proc = subprocess.Popen(
        sweep_command(home), env=sweep_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert wait_for(lock_file(home), proc)
    locked = time.monotonic()
    out, err = proc.communicate(timeout=120)
    working = time.monotonic() - locked
    assert proc.returncode == 0, err
    return Swept(home, json.loads(out), complete_by_cli(home), working)


class TestOneSweepProcess:
    def test_a_sweep_process_carries_out_everything_due_and_a_second_finds_nothing(
        self, template: Template, swept: Swept
    ) -> None:
        result = swept.first
        assert result["dry_run"] is False
        assert result["expired"] == len(template.expire) == 30
        assert result["erased"] == len(template.erase) == 35
        assert result["held"] == len(template.held) == 3
        assert result["review_overdue_entries"] == template.review_overdue
        assert result["expiring_soon_entries"] == template.expiring_soon
        assert (swept.second["expired"], swept.second["erased"]) == (0, 0)
        assert swept.second["held"] == 3
        assert swept.second["run_id"] != result["run_id"]
        assert check_store(swept.home, template).runs == 2


@pytest.mark.slow
class TestConcurrentSweeps:
    @pytest.mark.parametrize("stagger", [0.0, 0.6], ids=["together", "second-starts-mid-sweep"])
    def test_two_sweeps_started_together_never_both_act(
        self, template: Template, store: Path, stagger: float
    ) -> None:
        first = subprocess.Popen(
            sweep_command(store), env=sweep_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        time.sleep(stagger)
        second = subprocess.Popen(
            sweep_command(store), env=sweep_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        outcomes = []
        for proc in (first, second):
            out, err = proc.communicate(timeout=120)
            assert "Traceback" not in out + err, err
            outcomes.append((proc.returncode, out, err))
        succeeded = [json.loads(out) for code, out, _ in outcomes if code == 0]
        refused = [err for code, _, err in outcomes if code != 0]
        assert all(code in (0, 1) for code, _, _ in outcomes), outcomes
        assert len(succeeded) >= 1, outcomes
        for err in refused:
            assert REFUSED_BY_LOCK in err, err
            assert err.strip().startswith("error:"), err
        print(f"\nexit codes: {[code for code, _, _ in outcomes]}")
        acted = [r for r in succeeded if r["expired"] or r["erased"]]
        assert len(acted) == 1, f"exactly one sweep acts: {succeeded}"
        assert (acted[0]["expired"], acted[0]["erased"]) == (
            len(template.expire),
            len(template.erase),
        )
        for other in succeeded:
            if other is not acted[0]:
                assert (other["expired"], other["erased"]) == (0, 0)
        assert check_store(store, template).runs == len(succeeded)


def kill_and_complete(
    template: Template, home: Path, delay: float, after_lock: bool, by_cli: bool
) -> str:
    """Copy the template to ``home``, SIGKILL a sweep, sweep to the end, check the store.

    The kill comes ``delay`` seconds after the process starts, or (``after_lock``) after it takes the
    sweep lock, i.e. once it starts work. Returns where the kill landed: before any write,
    mid-sweep, or after the run record.
    """
    shutil.copytree(template.home, home)
    before = stored_topics(home)
    proc = subprocess.Popen(
        sweep_command(home), env=sweep_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    if not after_lock or wait_for(lock_file(home), proc):
        time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, -signal.SIGKILL), err
    assert "Traceback" not in err, err
    after = stored_topics(home)
    expired = after["watchlist:Entry.Expired"] - before["watchlist:Entry.Expired"]
    erased = after["watchlist:Retention.Erased"] - before["watchlist:Retention.Erased"]
    recorded = after["watchlist:SweepRun.Completed"] - before["watchlist:SweepRun.Completed"]
    assert expired <= len(template.expire)
    assert erased <= len(template.erase)
    if proc.returncode == 0 or recorded:
        landed = "after the run record"
    elif expired + erased == 0:
        landed = "before any write"
    else:
        landed = "mid-sweep"

    done = complete_by_cli(home) if by_cli else complete_in_process(home, template)
    assert (done["expired"] + expired, done["erased"] + erased) == (
        len(template.expire),
        len(template.erase),
    ), "the completing sweep does exactly what the killed one left"
    check_store(home, template)
    shutil.rmtree(home.parent)
    return landed


@pytest.mark.slow
class TestKilledSweeps:
    def test_a_sweep_killed_at_any_point_is_completed_by_the_next_with_nothing_done_twice(
        self, template: Template, swept: Swept, tmp_path: Path
    ) -> None:
        """SIGKILL a sweep after a seeded random delay, then sweep to the end; on fresh copies.

        A quarter of the kills come 0.05-1.5 s after the process starts (mostly during start-up,
        which is most of a sweep process's life); the rest come a random time after it takes the
        sweep lock, up to a little longer than a whole sweep's work took here, so kills land
        before, during and after its writes whatever the machine's speed. Every fifth completion
        is a new ``watchlist`` process; the others run the same code in this process, and two
        iterations run side by side, to keep the test affordable. It goes on past ``KILLS`` (up
        to ``MAX_KILLS``) until ``MID_SWEEP_KILLS`` kills have landed between a sweep's first
        write and its run record.
        """
        rng = random.Random(SEED)
        longest = swept.working_seconds * 1.2
        landed: Counter[str] = Counter()
        iteration = 0
        with ThreadPoolExecutor(max_workers=2) as pool:
            while iteration < KILLS or (
                landed["mid-sweep"] < MID_SWEEP_KILLS and iteration < MAX_KILLS
            ):
                batch = KILLS if iteration == 0 else 2
                futures = []
                for n in range(iteration, iteration + batch):
                    after_lock = n % 4 != 0
                    delay = rng.uniform(0.0, longest) if after_lock else rng.uniform(0.05, 1.5)
                    home = tmp_path / f"kill-{n}" / "home"
                    futures.append(
                        pool.submit(
                            kill_and_complete, template, home, delay, after_lock, n % 5 == 4
                        )
                    )
                landed.update(future.result() for future in futures)
                iteration += batch
        print(f"\n{iteration} kills (up to {longest:.2f}s after the lock): {dict(landed)}")
        assert landed["mid-sweep"] >= MID_SWEEP_KILLS, dict(landed)
