"""Tampering the Merkle log catches: rewrites, reorders, inserts, truncation, rollback, forks."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance import clock
from governance.application import WatchlistApp
from governance.domain.vocabulary import Rank, Role
from governance.errors import ProofError
from governance.integrity import keys
from governance.integrity.sealing import MasterKey
from governance.integrity.signing import Signer
from governance.ledger import checkpoints, notes, witness
from governance.ledger.log import Ledger, open_checkpoint
from governance.ledger.log_audit import Trusted
from governance.services.store_audit import AuditReport, verify_store
from governance.storage.settings import StoreSettings
from governance.storage.sqlite_recorder import SQLiteRecorder
from tests.conftest import T0, proposal


@dataclass
class Log:
    """A SQLite store with its log key, so tests can sign checkpoints."""

    settings: StoreSettings
    app: WatchlistApp
    log_key: Ed25519PrivateKey
    custodian: Signer

    def checkpoint(self) -> str:
        return Ledger(self.app).checkpoint(self.log_key)

    def trusted(self, *texts: str) -> list[Trusted]:
        ledger = Ledger(self.app)
        return [
            Trusted(f"cp{i}", open_checkpoint(t, ledger.log_verifier(), ledger.origin))
            for i, t in enumerate(texts)
        ]

    def add_entries(self, count: int) -> None:
        for _ in range(count):
            self.app.entries.propose(self.custodian, proposal())

    def fresh_report(self, *texts: str) -> AuditReport:
        app = WatchlistApp(self.settings)
        report = verify_store(app, self.trusted(*texts))
        app.close()
        return report

    def sql(self, statement: str, *params: object) -> int:
        with sqlite3.connect(self.settings.sqlite_path) as conn:
            return conn.execute(statement, params).rowcount

    def rows(self) -> list[tuple[int, str, int, str, bytes]]:
        with sqlite3.connect(self.settings.sqlite_path) as conn:
            return list(
                conn.execute(
                    "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
                )
            )


@pytest.fixture
def log(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Log]:
    block = getattr(request, "param", None)  # Merkle leaves per stored block, if not the default
    if block:
        monkeypatch.setattr(SQLiteRecorder, "block", block)
    with clock.frozen(T0):
        settings = StoreSettings(tmp_path / "home")
        MasterKey.create(settings.master_key_path)
        app = WatchlistApp(settings)
        admin, log_key = Signer("ADMIN-01", keys.generate()), keys.generate()
        app.officers.found(
            "test.example/watchlist",
            "Admin",
            Rank.INSPECTOR,
            admin,
            keys.public_b64(log_key.public_key()),
        )
        custodian = Signer("PC-1001", keys.generate())
        app.officers.enrol(
            admin,
            "PC-1001",
            "Custodian",
            Rank.CONSTABLE,
            frozenset({Role.CUSTODIAN}),
            custodian.public_key,
        )
        result = Log(settings, app, log_key, custodian)
        result.add_entries(4)
        yield result
        app.close()


def problems(report: AuditReport) -> list[str]:
    return [f.problem for f in report.failures]


class TestCleanLog:
    def test_a_store_extends_every_checkpoint_it_signed(self, log: Log) -> None:
        first = log.checkpoint()
        log.add_entries(3)
        second = log.checkpoint()
        report = log.fresh_report(first, second)
        assert report.ok, report.failures
        assert (report.tree_size, report.trusted_size, report.unverified_tail) == (10, 10, 0)

    def test_events_after_the_last_trusted_checkpoint_are_reported_as_an_unverified_tail(
        self, log: Log
    ) -> None:
        held = log.checkpoint()
        log.add_entries(2)
        report = log.fresh_report(held)
        assert report.ok
        assert report.unverified_tail == 2

    def test_an_inclusion_proof_verifies_against_the_checkpoint_root(self, log: Log) -> None:
        held = open_checkpoint(
            log.checkpoint(), Ledger(log.app).log_verifier(), "test.example/watchlist"
        )
        proof = Ledger(log.app).inclusion(4)
        from governance.ledger import merkle_verify

        merkle_verify.verify_inclusion(
            proof.leaf_hash, proof.leaf_index, held.size, proof.proof, held.root
        )


class TestRewrites:
    def test_an_edited_event_no_longer_matches_its_recorded_leaf(self, log: Log) -> None:
        position, *_, state = log.rows()[3]
        log.sql(
            "UPDATE stored_events SET state=? WHERE rowid=?",
            state.replace(b"custody", b"Custody"),
            position,
        )
        report = log.fresh_report()
        located = {(f.position, f.problem) for f in report.failures}
        assert (
            position,
            "event differs from the Merkle leaf recorded with it: it was altered",
        ) in located

    def test_two_events_swapped_in_store_order_are_caught(self, log: Log) -> None:
        rows = log.rows()
        a, b = rows[3], rows[4]
        log.sql("DELETE FROM stored_events WHERE rowid IN (?, ?)", a[0], b[0])
        log.sql(
            "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) VALUES (?,?,?,?,?)",
            a[0],
            *b[1:],
        )
        log.sql(
            "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) VALUES (?,?,?,?,?)",
            b[0],
            *a[1:],
        )
        report = log.fresh_report()
        assert {a[0], b[0]} <= {f.position for f in report.failures}
        assert "event differs from the Merkle leaf recorded with it: it was altered" in problems(
            report
        )

    def test_a_duplicated_event_is_caught(self, log: Log) -> None:
        rows = log.rows()
        _, stream, version, topic, state = rows[3]
        log.sql(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) VALUES (?,?,?,?)",
            stream,
            version + 5,
            topic,
            state,
        )
        report = log.fresh_report()
        assert not report.ok
        assert any("inserted behind the store's back" in p for p in problems(report))

    def test_an_event_backdated_and_appended_directly_is_caught(self, log: Log) -> None:
        held = log.checkpoint()
        rows = log.rows()
        _, stream, _, topic, state = rows[2]
        other_stream = rows[3][1]
        log.sql(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) VALUES (?,?,?,?)",
            other_stream,
            2,
            topic,
            state,
        )
        report = log.fresh_report(held)
        assert any("inserted behind the store's back" in p for p in problems(report))
        assert stream != other_stream

    def test_a_rewritten_history_with_a_rebuilt_tree_fails_against_a_trusted_checkpoint(
        self, log: Log
    ) -> None:
        held = log.checkpoint()
        log.sql("DELETE FROM stored_events WHERE rowid = (SELECT MAX(rowid) FROM stored_events)")
        log.sql(
            "DELETE FROM merkle_leaves WHERE leaf_index = (SELECT MAX(leaf_index) FROM merkle_leaves)"
        )
        log.sql("DELETE FROM merkle_nodes")
        log.sql("DELETE FROM merkle_leaves")
        app = WatchlistApp(
            log.settings
        )  # rebuild the tree from the remaining events, as a forger would
        from governance.ledger.leaves import block_nodes, event_leaf_hash

        notes_ = app.recorder.select_notifications(1, 1000)
        leaf_rows = [(i, n.id, event_leaf_hash(n)) for i, n in enumerate(notes_)]
        node_rows = block_nodes(0, [row[2] for row in leaf_rows], lambda lv, ix: b"")
        with sqlite3.connect(log.settings.sqlite_path) as conn:
            conn.executemany("INSERT INTO merkle_leaves VALUES (?,?,?)", leaf_rows)
            conn.executemany("INSERT INTO merkle_nodes VALUES (?,?,?)", node_rows)
        app.close()
        untrusting = log.fresh_report()
        assert untrusting.ok, "without a checkpoint a consistent forgery cannot be told apart"
        report = log.fresh_report(held)
        assert any(
            "events were removed or the store was rolled back" in p for p in problems(report)
        )


class TestStoredSubtrees:
    @pytest.mark.parametrize("log", [4], indirect=True)
    def test_a_block_missing_a_leaf_row_stores_no_subtree_and_the_audit_reports_the_gap(
        self, log: Log
    ) -> None:
        size = len(log.rows())
        partial = size - size % 4  # the first leaf of the partial block
        assert size % 4
        assert log.sql("DELETE FROM merkle_leaves WHERE leaf_index = ?", partial) == 1
        log.add_entries(4 - size % 4)  # the next writes complete that block
        with sqlite3.connect(log.settings.sqlite_path) as conn:
            stored = conn.execute(
                "SELECT COUNT(*) FROM merkle_nodes WHERE (level = 1 AND idx IN (?, ?)) "
                "OR (level = 2 AND idx = ?)",
                (partial // 2, partial // 2 + 1, partial // 4),
            ).fetchone()[0]
        assert stored == 0  # nothing folded from the wrong leaves
        report = log.fresh_report()
        assert any("inserted behind the store's back" in p for p in problems(report))


class TestTruncationAndRollback:
    def test_a_truncated_tail_is_caught_by_a_checkpoint_that_covered_it(self, log: Log) -> None:
        held = log.checkpoint()
        position = log.rows()[-1][0]
        log.sql("DELETE FROM stored_events WHERE rowid=?", position)
        report = log.fresh_report(held)
        assert any(f.position == position and "deleted" in f.problem for f in report.failures)
        assert any("rolled back" in p for p in problems(report))

    def test_a_database_replaced_by_an_older_copy_is_caught_by_a_later_checkpoint(
        self, log: Log
    ) -> None:
        log.app.close()
        old_copy = log.settings.sqlite_path.with_suffix(".old")
        shutil.copy(log.settings.sqlite_path, old_copy)
        log.app = WatchlistApp(log.settings)
        log.add_entries(2)
        later = log.checkpoint()
        log.app.close()
        shutil.copy(old_copy, log.settings.sqlite_path)
        for suffix in ("-wal", "-shm"):
            Path(str(log.settings.sqlite_path) + suffix).unlink(missing_ok=True)
        log.app = WatchlistApp(log.settings)
        report = log.fresh_report(later)
        assert any("covers 9 events but the store holds 7" in p for p in problems(report))


class TestCheckpoints:
    def test_a_checkpoint_for_another_origin_is_refused(self, log: Log) -> None:
        body = checkpoints.Checkpoint("evil.example/watchlist", 2, b"\x00" * 32).body()
        forged = notes.sign_note(body, "test.example/watchlist", log.log_key)
        with pytest.raises(ProofError, match="origin"):
            log.trusted(forged)

    def test_a_checkpoint_signed_by_another_key_is_refused(self, log: Log) -> None:
        ledger = Ledger(log.app)
        body = checkpoints.Checkpoint(ledger.origin, ledger.size(), ledger.root()).body()
        with pytest.raises(ProofError):
            log.trusted(notes.sign_note(body, ledger.origin, keys.generate()))


class TestWitness:
    def test_a_witness_cosigns_growth_and_refuses_rollback_and_fork(
        self, log: Log, tmp_path: Path
    ) -> None:
        state = tmp_path / "witness"
        log_key = str(Ledger(log.app).log_verifier())
        witness.init_witness(state, "legal.example", log_key, "pw")
        first = log.checkpoint()
        cosigned = witness.cosign(state, first, None, "pw", 1_800_000_000)
        assert cosigned.count("\u2014 ") == 2
        log.add_entries(1)
        second = log.checkpoint()
        proof = Ledger(log.app).consistency(7, 8).proof
        witness.cosign(state, second, proof, "pw", 1_800_000_001)
        with pytest.raises(ProofError, match="rollback"):
            witness.cosign(state, first, None, "pw", 1_800_000_002)
        ledger = Ledger(log.app)
        forked = notes.sign_note(
            checkpoints.Checkpoint(ledger.origin, 8, b"\x01" * 32).body(),
            ledger.origin,
            log.log_key,
        )
        with pytest.raises(ProofError, match="fork"):
            witness.cosign(state, forked, None, "pw", 1_800_000_003)
        log.add_entries(1)
        bigger_fork = notes.sign_note(
            checkpoints.Checkpoint(ledger.origin, 9, b"\x02" * 32).body(),
            ledger.origin,
            log.log_key,
        )
        with pytest.raises(ProofError, match="fork"):
            witness.cosign(
                state, bigger_fork, Ledger(log.app).consistency(8, 9).proof, "pw", 1_800_000_004
            )
        assert witness.WitnessState.load(state).size == 8


class TestIncrementalVerification:
    def since(self, log: Log, text: str) -> Trusted:
        return log.trusted(text)[0]

    def test_only_events_after_a_trusted_checkpoint_are_checked_and_the_tree_is_whole(
        self, log: Log
    ) -> None:
        held = log.checkpoint()
        log.add_entries(3)
        app = WatchlistApp(log.settings)
        report = verify_store(app, since=self.since(log, held))
        app.close()
        assert report.ok, report.failures
        assert (report.events, report.tree_size, report.trusted_size) == (3, 10, 7)
        assert report.root == Ledger(log.app).root()

    def test_nothing_new_since_the_checkpoint_is_ok_with_no_events(self, log: Log) -> None:
        held = log.checkpoint()
        app = WatchlistApp(log.settings)
        report = verify_store(app, since=self.since(log, held))
        app.close()
        assert report.ok
        assert (report.events, report.tree_size) == (0, 7)

    def test_a_bad_event_after_the_checkpoint_is_caught(self, log: Log) -> None:
        held = log.checkpoint()
        log.add_entries(2)
        position, *_, state = log.rows()[-1]
        log.sql(
            "UPDATE stored_events SET state=? WHERE rowid=?",
            state.replace(b"custody", b"Custody"),
            position,
        )
        report = WatchlistApp(log.settings)
        result = verify_store(report, since=self.since(log, held))
        report.close()
        assert {f.position for f in result.failures if f.position} == {position}

    @pytest.mark.parametrize(
        ("log", "rewrite"),
        [
            # With blocks of 4 leaves, the subtree over the first four is stored: rewrite it.
            (4, "UPDATE merkle_nodes SET hash = ? WHERE level = 2 AND idx = 0"),
            # With the default block, the checkpoint's subtrees are folded from stored leaves.
            (None, "UPDATE merkle_leaves SET hash = ? WHERE leaf_index = 1"),
        ],
        indirect=["log"],
    )
    def test_a_history_rewritten_before_the_checkpoint_is_caught_without_rereading_it(
        self, log: Log, rewrite: str
    ) -> None:
        held = log.checkpoint()
        assert log.sql(rewrite, b"\x00" * 32) == 1
        app = WatchlistApp(log.settings)
        report = verify_store(app, since=self.since(log, held))
        app.close()
        assert any("does not extend trusted checkpoint" in f.problem for f in report.failures)
