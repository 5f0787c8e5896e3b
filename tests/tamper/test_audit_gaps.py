"""Small gaps in the store audit (issue 13, section 2): each is reported, on both backends.

- ``audit verify --since CP`` judges the clock order of the first events after the checkpoint
  against what the checkpoint covers, so a backdated insert right after it is caught;
- an entry's data key deleted without an ``Erased`` record is reported;
- a sweep killed after acting but before its run record leaves erasures citing a run with no
  record: the audit reports them until the next sweep records the interrupted run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace

import pytest

from governance import clock
from governance.application import WatchlistApp
from governance.domain.retention import retention_stream
from governance.domain.vocabulary import Rank, Role
from governance.integrity import keys
from governance.integrity.signing import Signer
from governance.ledger.log import Ledger, open_checkpoint
from governance.ledger.log_audit import Trusted
from governance.services.store_audit import verify_store
from governance.services.sweep import sweep
from governance.storage.settings import StoreSettings
from tests.conftest import T0, World
from tests.tamper.test_tamper_matrix import Database

BACKDATED = "recorded_at is earlier than an event stored before it: a backdated insert"


def problems(settings: StoreSettings, since: Trusted | None = None) -> list[str]:
    app = WatchlistApp(settings)
    try:
        return [f.describe() for f in verify_store(app, since=since).failures]
    finally:
        app.close()


@pytest.fixture
def founded(settings: StoreSettings) -> Iterator[tuple[WatchlistApp, Signer, object]]:
    """A store whose log key the test holds (to sign checkpoints), with one custodian."""
    with clock.frozen(T0):
        app = WatchlistApp(settings)
        admin, log_key = Signer("ADMIN-01", keys.generate()), keys.generate()
        app.officers.found(
            "test.example/watchlist", "Admin", Rank.INSPECTOR, admin,
            keys.public_b64(log_key.public_key()),
        )  # fmt: skip
        custodian = Signer("PC-1001", keys.generate())
        app.officers.enrol(
            admin, "PC-1001", "Custodian", Rank.CONSTABLE, frozenset({Role.CUSTODIAN}),
            custodian.public_key,
        )  # fmt: skip
    yield app, custodian, log_key
    app.close()


def test_since_catches_a_backdated_insert_right_after_the_checkpoint(
    settings: StoreSettings, founded: tuple[WatchlistApp, Signer, object]
) -> None:
    from tests.conftest import proposal

    app, custodian, log_key = founded
    with clock.frozen(T0 + timedelta(hours=1)):
        ledger = Ledger(app)
        held = ledger.checkpoint(log_key)  # type: ignore[arg-type]
        since = Trusted("cp", open_checkpoint(held, ledger.log_verifier(), ledger.origin))
    with clock.frozen(T0 - timedelta(days=1)):
        app.entries.propose(custodian, proposal())
    full = problems(settings)
    incremental = problems(settings, since)
    assert len(full) == 1, full
    assert BACKDATED in full[0]
    assert incremental == full


def test_a_data_key_deleted_without_an_erasure_is_reported(world: World) -> None:
    entry = world.active()
    proposed = world.app.store_recorder.select_records(entry.id)[0]
    deleted = Database(world.settings, "subject_keys").execute(
        "DELETE FROM {table} WHERE key_ref = %s", entry.subject["key_ref"]
    )
    assert deleted == 1
    assert problems(world.settings) == [
        f"integrity failure at stream {entry.id} version 1 position {proposed.position}: "
        "the entry's data key is missing but no erasure was recorded: it was deleted behind "
        "the store's back"
    ]


def test_a_sweep_killed_before_its_run_record_is_reported_until_the_next_records_it(
    world: World, frozen: clock.FrozenClock
) -> None:
    from tests.conftest import proposal

    scheduler = Signer("SCHED-1", keys.generate())
    world.app.officers.enrol(
        world.admin, "SCHED-1", "Scheduler", Rank.CONSTABLE, frozenset({Role.SCHEDULER}),
        scheduler.public_key,
    )  # fmt: skip
    now = clock.now()
    entry = world.app.entries.propose(
        world.custodian,
        proposal(
            review_by=(now + timedelta(days=1)).isoformat(),
            expires_at=(now + timedelta(days=2)).isoformat(),
        ),
    )
    world.app.entries.authorise(world.authoriser, entry.id, "Necessary and proportionate.")
    frozen.advance(timedelta(days=3))
    world.app.retention.expire(scheduler, entry.id, "RUN-1")
    world.app.retention.record_sweep(scheduler, "RUN-1", {"expired": 1}, [], [], [])
    frozen.advance(timedelta(days=181))
    # What a sweep killed before its run record leaves: its erasure, and no run record.
    world.app.retention.erase(scheduler, entry.id, "retention period ended", "RUN-KILLED")
    (erased,) = world.app.store_recorder.select_records(retention_stream(entry.id))[-1:]
    assert problems(world.settings) == [
        f"integrity failure at stream {retention_stream(entry.id)} version "
        f"{erased.stored.originator_version} position {erased.position}: "
        "cites sweep run RUN-KILLED, which has no run record: the sweep was interrupted and no "
        "later sweep has recorded it yet"
    ]
    nothing_due = SimpleNamespace(expire=[], erase=[], held=[], review_overdue=[], expiring_soon=[])
    sweep(world.app, scheduler, nothing_due)  # type: ignore[arg-type]
    assert problems(world.settings) == []
    assert world.app.retention.interrupted_runs() == {}
