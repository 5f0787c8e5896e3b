"""Two officers acting on the same entry at once: no lost update, and a refusal that says why.

Each race uses two application instances on the same store (``world.reopen()``), on SQLite and on
PostgreSQL. The races are made deterministic in two ways:

- at the ``record`` level: both instances load the entry before either writes, each applies its
  decision to its own copy, and the two copies are recorded one after the other; the second is
  always a ``Conflict`` naming what changed (the library's optimistic concurrency), never a write on
  top of a state it was not checked against;
- at the command level: the second officer's public command runs, and the first officer's command
  is made to complete between the second's read and its write (by running it from inside the
  second's ``record``). ``@retried`` must then reload the entry, re-check every rule against the new
  state, and either record against that state or refuse with a ``Conflict`` saying what changed
  meanwhile (event type, officer, store position) and the new refusal.

Afterwards the entry's versions run 1..n with no gap, each version holds one event, and
``verify_store`` passes. A threaded test on PostgreSQL hammers one entry from four instances.
"""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from governance.application import WatchlistApp
from governance.domain.entry import Entry
from governance.domain.policy import DEFAULT
from governance.domain.vocabulary import (
    Rank,
    RemovalReason,
    ReviewOutcome,
    Role,
    SourceStatus,
    Status,
)
from governance.errors import Conflict, Refused, RuleViolation
from governance.integrity import keys
from governance.integrity.sealing import MasterKey
from governance.integrity.signing import Signer
from governance.services.store_audit import verify_store
from governance.storage.settings import StoreSettings
from tests.conftest import World, found_world

SETUP = ["Proposed", "Authorised"]


def kinds(app: WatchlistApp, entry_id: UUID) -> list[tuple[int, str, str]]:
    """(version, event type, actor) of every stored event of the entry, in version order."""
    return [
        (
            r.stored.originator_version,
            r.stored.topic.rpartition(".")[2],
            app.codec.decode(r.stored.state, typed=False).actor,
        )
        for r in app.store_recorder.select_records(entry_id)
    ]


def position_of(app: WatchlistApp, entry_id: UUID, version: int) -> int:
    (record,) = app.store_recorder.select_records(entry_id, gt=version - 1, lte=version)
    return record.position


def assert_no_lost_update(
    app: WatchlistApp, entry_id: UUID, expected: list[tuple[str, str]]
) -> None:
    """The entry holds exactly ``expected`` (type, actor) after its setup, on versions 1..n."""
    stored = kinds(app, entry_id)
    assert [v for v, _, _ in stored] == list(range(1, len(stored) + 1))
    assert [t for _, t, _ in stored[: len(SETUP)]] == SETUP
    assert [(t, a) for _, t, a in stored[len(SETUP) :]] == expected
    report = verify_store(app)
    assert report.ok, [f.describe() for f in report.failures]


def second_custodian(world: World) -> Signer:
    """Another custodian (not the entry's proposer)."""
    signer = Signer("PS-6001", keys.generate())
    world.app.officers.enrol(
        world.admin,
        signer.officer_id,
        "Second Custodian",
        Rank.SERGEANT,
        frozenset({Role.CUSTODIAN}),
        signer.public_key,
    )
    return signer


def second_reviewer(world: World) -> Signer:
    signer = Signer("INSP-7001", keys.generate())
    world.app.officers.enrol(
        world.admin,
        signer.officer_id,
        "Second Reviewer",
        Rank.INSPECTOR,
        frozenset({Role.REVIEWER}),
        signer.public_key,
    )
    return signer


# -- decisions applied to a loaded copy of the entry (record level) --------------------------------

Decide = Callable[[Entry, World, dict[str, Signer]], Signer]


def _review(who: str) -> Decide:
    def decide(entry: Entry, world: World, signers: dict[str, Signer]) -> Signer:
        signer = signers[who]
        entry.review(
            signer.officer_id,
            ReviewOutcome.RETAIN,
            "Still wanted.",
            None,
            None,
            entry.facts[-1].effective_at,
            DEFAULT,
        )
        return signer

    return decide


def _remove(who: str) -> Decide:
    def decide(entry: Entry, world: World, signers: dict[str, Signer]) -> Signer:
        signer = signers[who]
        entry.remove(
            signer.officer_id,
            RemovalReason.CASE_CLOSED,
            entry.facts[-1].effective_at,
            "NFA",
            None,
            None,
        )
        return signer

    return decide


RECORD_RACES = [
    pytest.param(_review("reviewer"), _remove("custodian"), "Reviewed", id="review-vs-removal"),
    pytest.param(_remove("custodian"), _review("reviewer"), "Removed", id="removal-vs-review"),
    pytest.param(_review("reviewer"), _review("reviewer2"), "Reviewed", id="two-reviews"),
    pytest.param(_remove("custodian"), _remove("custodian2"), "Removed", id="two-removals"),
]


@pytest.mark.parametrize(("first", "second", "first_type"), RECORD_RACES)
def test_two_copies_loaded_before_either_writes_record_exactly_one(
    world: World, first: Decide, second: Decide, first_type: str
) -> None:
    signers = {
        "reviewer": world.reviewer,
        "reviewer2": second_reviewer(world),
        "custodian": world.custodian,
        "custodian2": second_custodian(world),
    }
    entry_id = world.active().id
    other = world.reopen()
    mine, theirs = world.app.entries.get(entry_id), other.entries.get(entry_id)
    assert mine.version == theirs.version == 2

    winner = first(mine, world, signers)
    loser = second(theirs, world, signers)
    world.app.record(mine, signer=winner)
    with pytest.raises(Conflict) as conflict:
        other.record(theirs, signer=loser)

    position = position_of(world.app, entry_id, 3)
    assert conflict.value.message == (
        f"conflict: {entry_id} changed meanwhile "
        f"({first_type} by {winner.officer_id}, at store position {position})"
    )
    assert world.app.position() == position  # the loser wrote nothing, anywhere
    assert_no_lost_update(world.app, entry_id, [(first_type, winner.officer_id)])
    assert other.entries.get(entry_id) == world.app.entries.get(entry_id)
    other.close()


# -- public commands, the first completing between the second's read and its write -----------------


def interleave(
    monkeypatch: pytest.MonkeyPatch,
    app: WatchlistApp,
    competitor: Callable[[], Any],
    times: int = 1,
) -> list[Any]:
    """Run ``competitor`` inside ``app``'s next ``times`` writes, just before each is stored: the
    command being run on ``app`` has read and checked the entry, and it changes under it."""
    original = app.record
    ran: list[Any] = []

    def record(*aggregates: Any, **kwargs: Any) -> None:
        if len(ran) < times:
            ran.append(competitor())
        original(*aggregates, **kwargs)

    monkeypatch.setattr(app, "record", record)
    return ran


def test_a_review_racing_a_removal_is_refused_saying_what_changed_and_why(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry_id = world.active().id
    other = world.reopen()
    interleave(
        monkeypatch,
        other,
        lambda: world.app.entries.remove(
            world.custodian, entry_id, RemovalReason.CASE_CLOSED, None, "NFA"
        ),
    )
    with pytest.raises(Conflict) as conflict:
        other.entries.review(
            world.reviewer, entry_id, ReviewOutcome.RETAIN, "Still wanted.", None, None
        )

    position = position_of(world.app, entry_id, 3)
    assert conflict.value.message == (
        f"conflict: {entry_id} changed meanwhile (Removed by PC-1001, at store position "
        f"{position}); now refused: status: the entry is removed; only an active entry can be "
        "reviewed"
    )
    assert_no_lost_update(world.app, entry_id, [("Removed", "PC-1001")])
    assert world.app.entries.get(entry_id).status is Status.REMOVED
    other.close()


def test_a_removal_racing_a_review_is_retried_and_recorded_after_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry_id = world.active().id
    other = world.reopen()
    interleave(
        monkeypatch,
        other,
        lambda: world.app.entries.review(
            world.reviewer, entry_id, ReviewOutcome.RETAIN, "Still wanted.", None, None
        ),
    )
    removed = other.entries.remove(
        world.custodian, entry_id, RemovalReason.CASE_CLOSED, None, "NFA"
    )

    assert removed.version == 4
    assert_no_lost_update(world.app, entry_id, [("Reviewed", "INSP-3001"), ("Removed", "PC-1001")])
    now = world.app.entries.get(entry_id)
    assert now == removed
    assert now.status is Status.REMOVED
    assert now.state.last_reviewed_at is not None  # the review was not lost
    other.close()


def test_two_reviews_at_once_are_both_recorded_the_second_against_the_first(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    reviewer2 = second_reviewer(world)
    entry_id = world.active().id
    other = world.reopen()
    interleave(
        monkeypatch,
        other,
        lambda: world.app.entries.review(
            world.reviewer, entry_id, ReviewOutcome.RETAIN, "Still wanted.", None, None
        ),
    )
    second = other.entries.review(reviewer2, entry_id, ReviewOutcome.RETAIN, "Agreed.", None, None)

    assert second.version == 4
    assert_no_lost_update(
        world.app, entry_id, [("Reviewed", "INSP-3001"), ("Reviewed", reviewer2.officer_id)]
    )
    assert [f.actor for f in world.app.entries.get(entry_id).facts[2:]] == [
        "INSP-3001",
        reviewer2.officer_id,
    ]
    other.close()


def test_two_custodians_removing_the_same_entry_record_one_removal(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    custodian2 = second_custodian(world)
    entry_id = world.active().id
    other = world.reopen()
    interleave(
        monkeypatch,
        other,
        lambda: world.app.entries.remove(
            world.custodian, entry_id, RemovalReason.CASE_CLOSED, None, "NFA"
        ),
    )
    with pytest.raises(Conflict) as conflict:
        other.entries.remove(
            custodian2, entry_id, RemovalReason.ARRESTED_OR_LOCATED, None, "Arrested"
        )

    position = position_of(world.app, entry_id, 3)
    assert conflict.value.message == (
        f"conflict: {entry_id} changed meanwhile (Removed by PC-1001, at store position "
        f"{position}); now refused: status: the entry is removed; it cannot be removed"
    )
    # A removal that comes later (no race) is refused by the rule itself.
    monkeypatch.undo()
    with pytest.raises(
        RuleViolation, match=r"^status: the entry is removed; it cannot be removed$"
    ):
        other.entries.remove(
            custodian2, entry_id, RemovalReason.ARRESTED_OR_LOCATED, None, "Arrested"
        )
    assert_no_lost_update(world.app, entry_id, [("Removed", "PC-1001")])
    assert world.app.entries.get(entry_id).state.removal_reason is RemovalReason.CASE_CLOSED
    other.close()


def test_a_command_is_retried_once_only(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the entry changes again under the retry, the first conflict is reported, unretried."""
    entry_id = world.active().id
    other = world.reopen()
    interleave(
        monkeypatch,
        other,
        lambda: world.app.entries.verify_source(
            world.custodian, entry_id, SourceStatus.LIVE, None, "PNC checked"
        ),
        times=2,
    )
    with pytest.raises(Conflict) as conflict:
        other.entries.review(
            world.reviewer, entry_id, ReviewOutcome.RETAIN, "Still wanted.", None, None
        )

    assert conflict.value.message == (
        f"conflict: {entry_id} changed meanwhile (SourceVerified by PC-1001, at store position "
        f"{position_of(world.app, entry_id, 3)})"
    )
    assert_no_lost_update(
        world.app, entry_id, [("SourceVerified", "PC-1001"), ("SourceVerified", "PC-1001")]
    )
    other.close()


def test_two_corrections_of_the_same_fact_at_once_lose_neither(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry_id = world.active().id
    world.app.entries.verify_source(
        world.custodian, entry_id, SourceStatus.LIVE, None, "PNC"
    )  # version 3
    other = world.reopen()
    interleave(
        monkeypatch,
        other,
        lambda: world.app.entries.correct(
            world.custodian, entry_id, 3, None, {"status": "resolved"}, "Warrant withdrawn"
        ),
    )
    second: Entry | None = None
    refusal: Refused | None = None
    try:
        second = other.entries.correct(
            world.reviewer, entry_id, 3, None, {"status": "live"}, "Warrant reissued"
        )
    except Refused as refused:
        refusal = refused
    other.close()
    if refusal is not None:  # acceptable: refused, saying what changed
        assert "changed meanwhile (Corrected by PC-1001" in refusal.message
        assert_no_lost_update(
            world.app, entry_id, [("SourceVerified", "PC-1001"), ("Corrected", "PC-1001")]
        )
    else:  # or recorded against the corrected fact, and then it must take effect
        assert second is not None
        assert second.version == 5
        assert_no_lost_update(
            world.app,
            entry_id,
            [("SourceVerified", "PC-1001"), ("Corrected", "PC-1001"), ("Corrected", "INSP-3001")],
        )
        assert world.app.entries.get(entry_id).state.source_status is SourceStatus.LIVE


# -- threads on PostgreSQL ---------------------------------------------------------------------------

THREADS = 4
OPS = 30


def test_four_instances_hammering_one_entry_lose_nothing(pg_url: str, tmp_path: Path) -> None:
    """Each thread has its own application (own connection pool) and runs 30 reviews or source
    checks as fast as it can. The clock is the real one: every writer reads it concurrently."""
    settings = StoreSettings(tmp_path / "home", pg_url)
    MasterKey.create(settings.master_key_path)
    world = found_world(settings)
    entry_id = world.active().id
    apps = [world.reopen() for _ in range(THREADS)]
    start = threading.Barrier(THREADS)
    logs: list[list[tuple[str, str, Any]]] = [[] for _ in range(THREADS)]

    def work(index: int) -> None:
        app, log, rng = apps[index], logs[index], random.Random(index)
        start.wait()
        for _ in range(OPS):
            op = rng.choice(["review", "verify_source"])
            try:
                if op == "review":
                    entry = app.entries.review(
                        world.reviewer, entry_id, ReviewOutcome.RETAIN, "Still wanted.", None, None
                    )
                else:
                    status = rng.choice(list(SourceStatus))
                    entry = app.entries.verify_source(
                        world.custodian, entry_id, status, None, "PNC"
                    )
                log.append((op, "recorded", entry.version))
            except Refused as refused:
                log.append((op, "refused", type(refused).__name__))
            except Exception:  # anything else is a failure of the test, reported with its trace
                log.append((op, "error", traceback.format_exc()))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"

    entries = [e for log in logs for e in log]
    assert len(entries) == THREADS * OPS
    errors = [e for e in entries if e[1] == "error"]
    assert not errors, errors[0][2]
    recorded = sorted(v for _, outcome, v in entries if outcome == "recorded")
    refused = Counter(cls for _, outcome, cls in entries if outcome == "refused")
    assert set(refused) <= {"Conflict"}, refused

    fresh = WatchlistApp(settings)
    stored = kinds(fresh, entry_id)
    assert [v for v, _, _ in stored] == list(range(1, len(stored) + 1))
    # One stored event per success, on the version that success reported, and nothing else.
    assert recorded == list(range(len(SETUP) + 1, len(stored) + 1))
    by_version = {v: t for v, t, _ in stored}
    for op, outcome, version in entries:
        if outcome == "recorded":
            assert (
                by_version[version] == {"review": "Reviewed", "verify_source": "SourceVerified"}[op]
            )
    assert fresh.entries.get(entry_id).version == len(stored)
    report = verify_store(fresh)
    assert report.ok, [f.describe() for f in report.failures]
    for app in [*apps, fresh, world.app]:
        app.close()


def test_opening_the_store_while_another_process_opens_it(pg_url: str, tmp_path: Path) -> None:
    """Made deterministic: the other process holds the store's setup lock and has executed its
    DDL, not yet committed, when this instance opens the store; it commits a moment later.
    Without the setup lock the two ``CREATE OR REPLACE FUNCTION`` statements collide
    ("tuple concurrently updated")."""
    settings = StoreSettings(tmp_path / "home", pg_url)
    MasterKey.create(settings.master_key_path)
    world = found_world(settings)
    (ddl,) = [
        s
        for s in world.app.recorder.sql_create_statements  # type: ignore[attr-defined]
        if "CREATE OR REPLACE FUNCTION" in s.as_string()
    ]
    outcome: list[str] = []

    def open_store() -> None:
        try:
            WatchlistApp(settings).close()
            outcome.append("opened")
        except Exception as error:
            outcome.append(f"{type(error).__name__}: {error}")

    base = pg_url.partition("?")[0]
    lock_key = f"{settings.postgres_schema()}/watchlist-setup"
    with psycopg.connect(base) as other:
        other.execute("SELECT pg_advisory_lock(hashtext(%s))", (lock_key,))
        other.execute(ddl, prepare=False)
        opener = threading.Thread(target=open_store)
        opener.start()
        time.sleep(0.5)  # the opener is now waiting on the setup lock
        assert outcome == []  # still waiting for the setup lock
        other.commit()
        other.execute("SELECT pg_advisory_unlock(hashtext(%s))", (lock_key,))
        opener.join(timeout=30)
    world.app.close()
    assert outcome == ["opened"]
