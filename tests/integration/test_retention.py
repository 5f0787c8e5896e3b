"""Retention on SQLite and PostgreSQL: expiry, reports, legal holds and erasure of personal data.

The sweep runs in-process here, the way ``watchlist sweep`` runs it: under the store's sweep lock,
carrying out what ``projections.retention.due`` finds at the (frozen) clock. Erasure destroys the
entry's data key; its governance record, the audit and every inclusion proof must survive it, and no
copy of the name, the subject reference or the wrapped key may be left in the database.
"""

from __future__ import annotations

import base64
import sqlite3
import subprocess
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import psycopg
import pytest
from psycopg.sql import SQL, Identifier

from governance import clock
from governance.domain.deployment import UseCase
from governance.domain.entry import Entry
from governance.domain.retention import SweepRun, retention_stream
from governance.domain.vocabulary import Category, Rank, RemovalReason, Role, SourceStatus, Status
from governance.errors import Conflict, IntegrityFailure, PermissionDenied, RuleViolation
from governance.integrity import keys
from governance.integrity.sealing import MasterKey
from governance.integrity.signing import Signer
from governance.ledger import merkle_verify
from governance.ledger.leaves import event_leaf_hash
from governance.ledger.log import Ledger
from governance.services.store_audit import verify_store
from governance.services.sweep import SweepResult, exclusive, sweep
from governance.storage.settings import StoreSettings
from governance.times import format_instant
from projections.queries import inclusion
from projections.retention import Due, due
from tests.cli.conftest import Cli
from tests.conftest import World, found_world

MICROSECOND = timedelta(microseconds=1)
RETENTION = timedelta(days=180)  # policy.retention_days_after_removal, built-in default
NAME, SUBJECT_REF = "Quillon Retentionsworth", "NOMINAL-ERASE-7781"
SUBJECT = {"name": NAME, "date_of_birth": "1984-02-29", "subject_ref": SUBJECT_REF}


@pytest.fixture
def scheduler(world: World) -> Signer:
    """SCHED-1, an officer holding only the scheduler role, who runs the sweep."""
    signer = Signer("SCHED-1", keys.generate())
    world.app.officers.enrol(
        world.admin,
        "SCHED-1",
        "Scheduler One",
        Rank.CONSTABLE,
        frozenset({Role.SCHEDULER}),
        signer.public_key,
    )
    return signer


def run_sweep(
    world: World, signer: Signer | None, dry_run: bool = False
) -> tuple[SweepResult, Due]:
    """One sweep as ``watchlist sweep`` runs it: under the lock, at the clock's now."""
    with exclusive(world.app):
        now = clock.now()
        pending = due(world.app, now, world.app.policies.at(now).document)
        return sweep(world.app, signer, pending, dry_run), pending  # type: ignore[arg-type]


def removed(world: World, **changes: Any) -> Entry:
    """An authorised entry, removed now (case closed)."""
    entry = world.active(**changes)
    return world.app.entries.remove(
        world.custodian, entry.id, RemovalReason.CASE_CLOSED, None, "NFA"
    )


def topics_after(world: World, position: int) -> list[str]:
    """The types of the events stored after ``position``."""
    return [n.topic for n in world.app.recorder.select_notifications(position + 1, 10_000)]


def counts_by_stream(world: World, topic: str) -> Counter[str]:
    """How many events of ``topic`` each stream holds."""
    return Counter(str(n.originator_id) for n in world.app.notifications([topic]))


def sweep_runs(world: World) -> list[SweepRun]:
    """Every recorded sweep run, in store order."""
    return [
        world.app.load(UUID(str(n.originator_id)), SweepRun, "sweep run")
        for n in world.app.notifications(["watchlist:SweepRun.Completed"])
    ]


def cli_for(world: World) -> Cli:
    """The ``watchlist`` CLI on the world's store (in-process, so it shares the frozen clock)."""
    return Cli(
        world.settings.home, env={"WATCHLIST_DATABASE_URL": world.settings.database_url or ""}
    )


def wrapped_key(world: World, entry: Entry) -> str:
    """The entry's wrapped data key, read straight from the key table."""
    wrapped = world.app.store_recorder.subject_key(str(entry.subject["key_ref"]))
    assert wrapped is not None
    return wrapped


def schema_of(world: World) -> str:
    url = world.settings.database_url
    assert url is not None
    return parse_qs(urlsplit(url).query)["schema"][0]


def base_url(world: World) -> str:
    url = world.settings.database_url
    assert url is not None
    return url.split("?", 1)[0]


def database_bytes(world: World) -> bytes:
    """Everything the store's database holds, as bytes to search.

    SQLite: the raw bytes of the database file and of any ``-wal``/``-shm`` beside it (free pages
    and log frames included). PostgreSQL: ``pg_dump`` of the store's schema, plus every row of every
    table in it with ``bytea`` values as raw bytes.
    """
    if world.settings.backend == "sqlite":
        files = sorted(world.settings.home.glob(world.settings.sqlite_path.name + "*"))
        assert world.settings.sqlite_path in files
        return b"".join(path.read_bytes() for path in files)
    schema = schema_of(world)
    parts = urlsplit(base_url(world))
    dump = subprocess.run(
        [
            "pg_dump",
            "-h",
            parts.hostname or "127.0.0.1",
            "-p",
            str(parts.port or 5432),
            "-U",
            parts.username or "postgres",
            "-d",
            parts.path.lstrip("/"),
            "-n",
            schema,
            "--data-only",
        ],
        capture_output=True,
        check=True,
    ).stdout
    chunks = [dump]
    with psycopg.connect(base_url(world)) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        ]
        assert "subject_keys" in tables
        for table in tables:
            for row in conn.execute(
                SQL("SELECT * FROM {0}.{1}").format(Identifier(schema), Identifier(table))
            ):
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        chunks.append(bytes(value))
                    else:
                        chunks.append(str(value).encode())
    return b"\n".join(chunks)


def delete_key_behind_the_stores_back(world: World, key_ref: str) -> None:
    """An insider deletes a data key row directly in the database, with no erasure record."""
    if world.settings.backend == "sqlite":
        with sqlite3.connect(world.settings.sqlite_path) as conn:
            deleted = conn.execute("DELETE FROM subject_keys WHERE key_ref = ?", (key_ref,))
            assert deleted.rowcount == 1
        conn.close()
        return
    with psycopg.connect(base_url(world), autocommit=True) as pg:
        cursor = pg.execute(
            SQL("DELETE FROM {0}.subject_keys WHERE key_ref = %s").format(
                Identifier(schema_of(world))
            ),
            (key_ref,),
        )
        assert cursor.rowcount == 1


class TestExpiry:
    def test_an_entry_expires_at_exactly_its_expires_at_and_not_a_microsecond_before(
        self, world: World, scheduler: Signer, frozen: clock.FrozenClock
    ) -> None:
        entry = world.active()
        expires_at = entry.expires_at

        frozen.set(expires_at - MICROSECOND)
        early, pending = run_sweep(world, scheduler)
        assert pending.expire == []
        assert early.expired == []
        assert world.app.entries.get(entry.id).status is Status.ACTIVE
        assert counts_by_stream(world, "watchlist:Entry.Expired") == Counter()

        frozen.set(expires_at)
        on_time, pending = run_sweep(world, scheduler)
        assert pending.expire == [str(entry.id)]
        assert on_time.expired == [str(entry.id)]
        expired = world.app.entries.get(entry.id)
        assert expired.status is Status.EXPIRED
        last = world.app.entries.history(entry.id)[-1]
        assert last.checked.record.stored.topic == "watchlist:Entry.Expired"
        assert last.checked.envelope is not None
        assert last.checked.envelope.statement["effective_at"] == format_instant(expires_at)
        assert last.checked.envelope.actor == "SCHED-1"
        assert last.checked.envelope.payload["run_id"] == on_time.run_id

    def test_inclusion_lists_the_entry_until_one_microsecond_before_expiry_and_not_at_it(
        self, world: World, scheduler: Signer, frozen: clock.FrozenClock
    ) -> None:
        entry = world.active()
        expires_at = entry.expires_at
        _, before_view = inclusion(world.app, entry.id, expires_at - MICROSECOND, None)
        _, at_view = inclusion(world.app, entry.id, expires_at, None)
        assert before_view.assessment.listed
        assert not at_view.assessment.listed
        assert "expired" in at_view.assessment.reasons

        frozen.set(expires_at)
        run_sweep(world, scheduler)  # the Expired fact changes neither answer
        _, before_view = inclusion(world.app, entry.id, expires_at - MICROSECOND, None)
        _, at_view = inclusion(world.app, entry.id, expires_at, None)
        assert before_view.assessment.listed
        assert not at_view.assessment.listed
        assert "expired" in at_view.assessment.reasons


class TestIdempotence:
    def test_a_second_sweep_right_after_finds_nothing_new_and_writes_only_its_run_record(
        self, world: World, scheduler: Signer, frozen: clock.FrozenClock
    ) -> None:
        lapsing = world.active()  # expires in 180 days: due for expiry, then for erasure
        gone = removed(world)
        frozen.set(lapsing.expires_at + RETENTION + timedelta(days=1))
        first, _ = run_sweep(world, scheduler)
        assert first.expired == [str(lapsing.id)]
        assert sorted(first.erased) == sorted([str(lapsing.id), str(gone.id)])

        before = world.app.position()
        second, pending = run_sweep(world, scheduler)
        assert (pending.expire, pending.erase) == ([], [])
        assert second.expired == second.erased == second.skipped == []
        assert topics_after(world, before) == ["watchlist:SweepRun.Completed"]
        assert [run.run_id for run in sweep_runs(world)] == [first.run_id, second.run_id]
        assert (
            sweep_runs(world)[-1].counts["expired"] == sweep_runs(world)[-1].counts["erased"] == 0
        )


class TestChangesDuringASweep:
    def test_entries_whose_state_changed_after_the_due_list_was_read_are_skipped_for_the_next_run(
        self, world: World, scheduler: Signer, frozen: clock.FrozenClock
    ) -> None:
        now = clock.now()
        lapsing = world.active(
            review_by=(now + timedelta(days=20)).isoformat(),
            expires_at=(now + timedelta(days=30)).isoformat(),
        )
        gone = removed(world)
        frozen.advance(RETENTION + timedelta(days=1))
        with exclusive(world.app):
            pending = due(world.app, clock.now(), world.app.policies.at(clock.now()).document)
            assert (pending.expire, pending.erase) == ([str(lapsing.id)], [str(gone.id)])
            # Meanwhile a custodian removes one entry and the legal team holds the other.
            world.app.entries.remove(
                world.custodian, lapsing.id, RemovalReason.CASE_CLOSED, None, None
            )
            world.app.retention.place_hold(world.legal, gone.id, "CASE-9", "Evidence, found late")
            result = sweep(world.app, scheduler, pending)
        assert result.skipped == [str(lapsing.id), str(gone.id)]
        assert result.expired == result.erased == []
        assert world.app.entries.get(lapsing.id).status is Status.REMOVED
        assert world.app.entries.has_subject_key(gone.id)
        assert (
            sweep_runs(world)[-1].counts["expired"] == sweep_runs(world)[-1].counts["erased"] == 0
        )
        assert counts_by_stream(world, "watchlist:Entry.Expired") == Counter()

        world.app.retention.release_hold(world.legal, gone.id, None, "Not needed after all")
        later, _ = run_sweep(world, scheduler)
        assert later.erased == [str(gone.id)]


class TestReports:
    def test_overdue_reviews_and_expiring_entries_are_reported_and_recorded_but_not_acted_on(
        self, world: World, scheduler: Signer, frozen: clock.FrozenClock
    ) -> None:
        now = clock.now()
        overdue = world.active(review_by=(now + timedelta(days=10)).isoformat())
        expiring = world.active(
            review_by=(now + timedelta(days=28)).isoformat(),
            expires_at=(now + timedelta(days=30)).isoformat(),
        )
        quiet = world.active()  # review in 60 days, expiry in 180: nothing to report
        frozen.advance(timedelta(days=20))
        before = world.app.position()
        result, pending = run_sweep(world, scheduler)

        document = result.document(pending)
        assert document["review_overdue_entries"] == [str(overdue.id)]
        assert document["expiring_soon_entries"] == [str(expiring.id)]
        assert (document["review_overdue"], document["expiring_soon"]) == (1, 1)
        assert (document["expired"], document["erased"], document["held"]) == (0, 0, 0)
        assert (
            str(quiet.id)
            not in document["review_overdue_entries"] + document["expiring_soon_entries"]
        )
        assert topics_after(world, before) == ["watchlist:SweepRun.Completed"]
        (run,) = sweep_runs(world)
        assert run.run_id == result.run_id
        assert run.review_overdue == [str(overdue.id)]
        assert run.expiring_soon == [str(expiring.id)]
        assert run.held == []
        assert run.counts == {
            "expired": 0,
            "erased": 0,
            "held": 0,
            "review_overdue": 1,
            "expiring_soon": 1,
        }
        for entry in (overdue, expiring, quiet):
            assert world.app.entries.get(entry.id).status is Status.ACTIVE

    def test_an_entry_the_sweep_reports_overdue_is_excluded_by_the_compile_gate(
        self, world: World, scheduler: Signer, frozen: clock.FrozenClock
    ) -> None:
        now = clock.now()
        overdue = world.active(review_by=(now + timedelta(days=10)).isoformat())
        current = world.active()
        frozen.advance(timedelta(days=20))
        for entry in (overdue, current):
            world.app.entries.verify_source(
                world.custodian, entry.id, SourceStatus.LIVE, None, "PNC"
            )
        _result, pending = run_sweep(world, scheduler)
        assert pending.review_overdue == [str(overdue.id)]

        start = clock.now() + timedelta(hours=1)
        deployment = world.app.deployments.authorise(
            world.authoriser, "Station", "Sought people travel through it", "Locate wanted people",
            UseCase.HOTSPOT, [Category.WANTED_ON_WARRANT], start, start + timedelta(hours=6),
        )  # fmt: skip
        compiled = world.app.deployments.compile(
            world.custodian, deployment.id, [overdue.id, current.id]
        )
        assert compiled.compilation is not None
        assert compiled.compilation["excluded"] == [
            {"entry_id": str(overdue.id), "reasons": ["review_overdue"]}
        ]
        assert [m["entry_id"] for m in compiled.compilation["manifest"]] == [str(current.id)]


class TestErasure:
    def test_a_removed_entry_is_erased_only_once_its_retention_period_has_ended(
        self, world: World, scheduler: Signer, frozen: clock.FrozenClock
    ) -> None:
        entry = removed(world)
        removed_at = world.app.entries.get(entry.id).state.removed_at
        assert removed_at is not None
        frozen.set(removed_at + RETENTION - MICROSECOND)
        early, pending = run_sweep(world, scheduler)
        assert pending.erase == []
        assert early.erased == []
        assert world.app.entries.has_subject_key(entry.id)
        frozen.set(removed_at + RETENTION)
        on_time, pending = run_sweep(world, scheduler)
        assert on_time.erased == [str(entry.id)]
        assert not world.app.entries.has_subject_key(entry.id)

    def test_after_erasure_the_governance_record_the_audit_and_inclusion_proofs_survive(
        self, world: World, scheduler: Signer, frozen: clock.FrozenClock
    ) -> None:
        entry = removed(world, subject=SUBJECT)
        proposal = world.app.store_recorder.select_records(entry.id, lte=1)[0]
        assert proposal.stored.topic == "watchlist:Entry.Proposed"
        record_before = world.app.entries.get(entry.id)
        assert world.app.entries.reveal(world.legal, entry.id, "Before erasure")["name"] == NAME  # type: ignore[index]
        frozen.advance(RETENTION + timedelta(days=1))

        result, _ = run_sweep(world, scheduler)
        assert result.erased == [str(entry.id)]

        assert (
            world.app.entries.reveal(world.legal, entry.id, "Subject access request 9") == "erased"
        )
        assert world.app.entries.has_subject_key(entry.id) is False
        assert world.app.entries.erasure_recorded(entry.id)
        retention = world.app.retention.get(entry.id)
        assert retention is not None
        assert retention.erased_at == clock.now()
        record = world.app.entries.get(entry.id)
        assert record.status is Status.REMOVED
        assert record.version == record_before.version
        assert record.subject == record_before.subject  # the sealed ciphertext is still signed
        assert record.state == record_before.state

        reopened = world.reopen()
        report = verify_store(reopened)
        assert report.ok, report.failures
        ledger = Ledger(reopened)
        proof = ledger.inclusion(proposal.position)
        assert proof.leaf_hash == event_leaf_hash(proposal.stored)
        assert proof.root == ledger.root() == report.root
        merkle_verify.verify_inclusion(
            proof.leaf_hash, proof.leaf_index, proof.tree_size, proof.proof, proof.root
        )
        reopened.close()

        shown = cli_for(world).ok("entry", "show", str(entry.id))
        assert shown["subject"] == "erased"
        assert shown["entry_id"] == str(entry.id)
        assert shown["status"] == "removed"

    def test_after_erasure_no_copy_of_the_name_reference_or_wrapped_key_is_left_in_the_database(
        self, world: World, scheduler: Signer, frozen: clock.FrozenClock
    ) -> None:
        entry = removed(world, subject=SUBJECT)
        kept = removed(world)  # another subject, whose key must survive
        wrapped = wrapped_key(world, entry).encode("ascii")
        other = wrapped_key(world, kept).encode("ascii")
        base64.b64decode(wrapped, validate=True)
        before = database_bytes(world)
        assert wrapped in before
        assert other in before
        frozen.advance(RETENTION + timedelta(days=1))
        world.app.retention.place_hold(world.legal, kept.id, "CASE-77", "Evidence for the trial")

        result, _ = run_sweep(world, scheduler)
        assert result.erased == [str(entry.id)]

        after = database_bytes(world)
        assert other in after
        for secret in (
            wrapped,
            NAME.encode(),
            SUBJECT_REF.encode(),
            SUBJECT["date_of_birth"].encode(),
        ):
            assert secret not in after, f"{secret[:24]!r}... is still in the database"

    def test_a_legal_hold_blocks_erasure_by_command_and_by_sweep_until_it_is_released(
        self, world: World, scheduler: Signer, frozen: clock.FrozenClock
    ) -> None:
        entry = world.active()
        world.app.retention.place_hold(
            world.legal, entry.id, "CASE-2026-114", "Evidence for the trial"
        )
        world.app.entries.remove(world.custodian, entry.id, RemovalReason.CASE_CLOSED, None, None)
        frozen.advance(RETENTION + timedelta(days=1))

        before = world.app.position()
        with pytest.raises(RuleViolation, match=r"legal hold.*CASE-2026-114"):
            world.app.retention.erase(world.admin, entry.id, "Retention period ended")
        assert world.app.position() == before

        held, pending = run_sweep(world, scheduler)
        assert pending.held == [str(entry.id)]
        assert pending.erase == []
        assert held.erased == []
        assert held.document(pending)["held"] == 1
        assert sweep_runs(world)[-1].held == [str(entry.id)]
        assert world.app.entries.has_subject_key(entry.id)
        assert topics_after(world, before) == ["watchlist:SweepRun.Completed"]

        world.app.retention.release_hold(world.legal, entry.id, None, "The trial has concluded")
        released, pending = run_sweep(world, scheduler)
        assert pending.held == []
        assert released.erased == [str(entry.id)]
        assert not world.app.entries.has_subject_key(entry.id)
        assert verify_store(world.app).ok

    def test_with_two_holds_erasure_waits_until_both_are_released(
        self, world: World, scheduler: Signer, frozen: clock.FrozenClock
    ) -> None:
        entry = removed(world)
        for case in ("CASE-A", "CASE-B"):
            world.app.retention.place_hold(world.legal, entry.id, case, f"Evidence in {case}")
        frozen.advance(RETENTION + timedelta(days=1))
        world.app.retention.release_hold(world.legal, entry.id, "CASE-A", "Case A concluded")
        with pytest.raises(RuleViolation, match="CASE-B"):
            world.app.retention.erase(world.admin, entry.id, "Retention period ended")
        still, pending = run_sweep(world, scheduler)
        assert pending.held == [str(entry.id)]
        assert still.erased == []
        world.app.retention.release_hold(world.legal, entry.id, "CASE-B", "Case B concluded")
        done, _ = run_sweep(world, scheduler)
        assert done.erased == [str(entry.id)]

    def test_an_expired_entry_can_be_erased_by_an_admin_before_the_retention_period_ends(
        self, world: World, scheduler: Signer, frozen: clock.FrozenClock
    ) -> None:
        entry = world.active()
        frozen.set(entry.expires_at)
        run_sweep(world, scheduler)
        assert world.app.entries.get(entry.id).status is Status.EXPIRED
        record = world.app.retention.erase(world.admin, entry.id, "Erasure request upheld")
        assert record.erased_at == clock.now()
        assert world.app.entries.reveal(world.legal, entry.id, "Check") == "erased"
        frozen.advance(RETENTION + timedelta(days=1))
        later, pending = run_sweep(world, scheduler)
        assert pending.erase == []
        assert later.erased == []


@dataclass(frozen=True)
class QuickLockSettings(StoreSettings):
    """SQLite settings whose lock timeout is 1 s rather than 30 s, so a test can outlast it."""

    def library_env(self) -> dict[str, str]:
        return {**super().library_env(), "SQLITE_LOCK_TIMEOUT": "1"}


class TestErasureBesideAReader:
    def test_an_erased_key_leaves_no_copy_once_a_long_reader_has_finished(
        self, tmp_path: Path, frozen: clock.FrozenClock
    ) -> None:
        settings = QuickLockSettings(tmp_path / "home")
        MasterKey.create(settings.master_key_path)
        world = found_world(settings)
        entry = removed(world)
        wrapped = wrapped_key(world, entry).encode("ascii")
        reader = sqlite3.connect(settings.sqlite_path, isolation_level=None)
        closed = False
        try:
            reader.execute("BEGIN")
            reader.execute("SELECT COUNT(*) FROM stored_events").fetchone()  # e.g. a backup
            # The erasure waits the lock timeout, then goes ahead.
            world.app.retention.erase(world.admin, entry.id, "Erasure upheld")
            reader.execute("COMMIT")  # the reader is done, though still connected
            world.app.close()  # the erasing process ends
            closed = True
            files = {
                p.name: wrapped in p.read_bytes()
                for p in sorted(settings.home.glob(settings.sqlite_path.name + "*"))
            }
            assert not any(files.values()), f"the erased key is still in {files}"
        finally:
            reader.close()
            if not closed:
                world.app.close()


class TestErasureRefusals:
    def test_erasing_an_entry_still_on_the_watchlist_is_refused(self, world: World) -> None:
        active, proposed = world.active(), world.proposed()
        before = world.app.position()
        for entry in (active, proposed):
            with pytest.raises(RuleViolation, match="still listed"):
                world.app.retention.erase(world.admin, entry.id, "Subject asked")
            assert world.app.entries.has_subject_key(entry.id)
        assert world.app.position() == before

    def test_erasing_twice_is_refused(self, world: World) -> None:
        entry = removed(world)
        world.app.retention.erase(world.admin, entry.id, "Erasure upheld by the DPO")
        before = world.app.position()
        with pytest.raises(RuleViolation, match="already been erased"):
            world.app.retention.erase(world.admin, entry.id, "Again")
        assert world.app.position() == before
        assert counts_by_stream(world, "watchlist:Retention.Erased") == Counter(
            {str(retention_stream(entry.id)): 1}
        )

    @pytest.mark.parametrize("officer", ["custodian", "authoriser", "reviewer", "legal"])
    def test_only_an_admin_or_the_scheduler_may_erase(self, world: World, officer: str) -> None:
        entry = removed(world)
        before = world.app.position()
        with pytest.raises(PermissionDenied, match="admin or scheduler"):
            world.app.retention.erase(getattr(world, officer), entry.id, "Erasure upheld")
        assert world.app.position() == before
        assert world.app.entries.has_subject_key(entry.id)

    @pytest.mark.parametrize("officer", ["admin", "custodian", "reviewer", "scheduler"])
    def test_placing_a_hold_needs_the_legal_role(
        self, world: World, scheduler: Signer, officer: str
    ) -> None:
        entry = world.active()
        signer = scheduler if officer == "scheduler" else getattr(world, officer)
        before = world.app.position()
        with pytest.raises(PermissionDenied, match="legal"):
            world.app.retention.place_hold(signer, entry.id, "CASE-1", "Evidence")
        assert world.app.position() == before
        assert world.app.retention.get(entry.id) is None


class TestTamperedKeys:
    def test_a_data_key_deleted_without_an_erasure_record_is_an_integrity_failure(
        self, world: World
    ) -> None:
        entry = world.active()
        delete_key_behind_the_stores_back(world, str(entry.subject["key_ref"]))
        before = world.app.position()
        with pytest.raises(IntegrityFailure, match="no erasure was recorded"):
            world.app.entries.reveal(world.legal, entry.id, "Check")
        with pytest.raises(IntegrityFailure, match="no erasure was recorded"):
            world.app.entries.has_subject_key(entry.id)
        assert world.app.position() == before  # no consultation recorded

        result = cli_for(world).run("entry", "show", str(entry.id), "--json")
        assert result.exit_code == 3, result.stderr
        assert "integrity:" in result.stderr
        assert "no erasure was recorded" in result.stderr
        assert result.stdout == ""
        assert "Traceback" not in result.stdout + result.stderr

    def test_erasing_an_entry_whose_key_was_deleted_behind_the_stores_back_is_an_integrity_failure(
        self, world: World
    ) -> None:
        entry = removed(world)
        delete_key_behind_the_stores_back(world, str(entry.subject["key_ref"]))
        before = world.app.position()
        with pytest.raises(IntegrityFailure, match="no erasure was recorded"):
            world.app.retention.erase(world.admin, entry.id, "Erasure upheld")
        assert world.app.position() == before

    def test_a_sweep_meeting_a_key_deleted_behind_the_stores_back_stops_with_an_integrity_failure(
        self, world: World, scheduler: Signer, frozen: clock.FrozenClock
    ) -> None:
        entry = removed(world)
        delete_key_behind_the_stores_back(world, str(entry.subject["key_ref"]))
        frozen.advance(RETENTION + timedelta(days=1))
        before = world.app.position()
        with pytest.raises(IntegrityFailure):
            run_sweep(world, scheduler)
        assert world.app.position() == before
        assert not world.app.entries.erasure_recorded(entry.id)


class TestDryRun:
    def test_a_dry_run_reports_what_is_due_and_changes_nothing(
        self, world: World, scheduler: Signer, frozen: clock.FrozenClock
    ) -> None:
        lapsing = world.active()  # expires in 180 days: due for expiry, then for erasure
        gone = removed(world)
        frozen.set(lapsing.expires_at + RETENTION + timedelta(days=1))
        before = world.app.position()

        dry, _pending = run_sweep(world, None, dry_run=True)
        assert dry.dry_run
        assert dry.expired == [str(lapsing.id)]
        assert sorted(dry.erased) == sorted([str(lapsing.id), str(gone.id)])
        assert world.app.position() == before
        assert world.app.entries.get(lapsing.id).status is Status.ACTIVE
        assert world.app.entries.has_subject_key(lapsing.id)
        assert world.app.entries.has_subject_key(gone.id)
        assert world.app.retention.get(gone.id) is None

        real, _ = run_sweep(world, scheduler)
        assert (real.expired, sorted(real.erased)) == (dry.expired, sorted(dry.erased))


class TestSweepLock:
    def test_a_second_sweep_on_the_same_store_is_refused_while_one_runs(self, world: World) -> None:
        other = world.reopen()
        with (
            exclusive(world.app),
            pytest.raises(Conflict, match="another sweep is running"),
            exclusive(other),
        ):
            pass
        with exclusive(other):  # released when the first ends
            pass
        other.close()

    def test_a_sweep_on_one_store_does_not_lock_out_a_sweep_on_another_store(
        self, world: World, tmp_path: Path
    ) -> None:
        """Two stores (two homes, or two schemas of one PostgreSQL database) sweep independently."""
        url = world.settings.database_url
        second_url = None
        if url is not None:
            second_url = f"{base_url(world)}?schema={schema_of(world)}_b"
            with psycopg.connect(base_url(world), autocommit=True) as conn:
                conn.execute(SQL("CREATE SCHEMA {0}").format(Identifier(f"{schema_of(world)}_b")))
        settings = StoreSettings(tmp_path / "second-home", second_url)
        MasterKey.create(settings.master_key_path)
        second = found_world(settings)
        try:
            with exclusive(world.app), exclusive(second.app):
                pass
        finally:
            second.app.close()
            if url is not None:
                with psycopg.connect(base_url(world), autocommit=True) as conn:
                    conn.execute(
                        SQL("DROP SCHEMA {0} CASCADE").format(Identifier(f"{schema_of(world)}_b"))
                    )
