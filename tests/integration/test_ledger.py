"""The Merkle log kept by the recorders matches the events, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from governance.ledger import merkle, merkle_verify
from governance.ledger.leaves import leaf_data
from governance.ledger.log import Ledger
from governance.ledger.log_audit import LogAudit
from governance.services import store_audit as audit
from governance.services.store_audit import verify_store
from governance.storage.recorders import PostgresRecorder, SQLiteRecorder
from tests.conftest import World


def recomputed_leaves(world: World) -> list[bytes]:
    notes = world.app.recorder.select_notifications(1, 10_000)
    return [leaf_data(str(n.originator_id), n.originator_version, n.topic, n.state) for n in notes]


class TestMerkleLog:
    def test_every_event_is_a_leaf_and_the_stored_root_is_the_tree_of_the_events(
        self, world: World
    ) -> None:
        for _ in range(5):
            world.active()
        leaves = recomputed_leaves(world)
        ledger = Ledger(world.app)
        assert ledger.size() == len(leaves) == world.app.position()
        assert ledger.root() == merkle.mth(leaves)
        for size in (1, 2, 7, len(leaves)):
            assert ledger.root(size) == merkle.mth(leaves[:size])

    def test_proofs_from_the_store_verify(self, world: World) -> None:
        for _ in range(3):
            world.active()
        ledger = Ledger(world.app)
        size, root = ledger.size(), ledger.root()
        for position in (1, 5, size):
            proof = ledger.inclusion(position)
            merkle_verify.verify_inclusion(
                proof.leaf_hash, proof.leaf_index, size, proof.proof, root
            )
        consistency = ledger.consistency(4)
        merkle_verify.verify_consistency(4, size, ledger.root(4), root, consistency.proof)

    def test_a_full_audit_reports_the_tree_it_recomputed(self, world: World) -> None:
        world.active()
        report = verify_store(world.reopen())
        assert report.ok, report.failures
        assert report.tree_size == report.events == Ledger(world.app).size()
        assert report.root == Ledger(world.app).root()
        assert report.unverified_tail is None

    @pytest.mark.parametrize("workers", [1, 2])
    def test_events_appended_while_an_audit_runs_are_left_for_the_next_one(
        self, world: World, workers: int, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        world.active()
        before = world.app.position()
        monkeypatch.setattr(audit, "PARALLEL_THRESHOLD", 0)
        real_init = LogAudit.__init__

        def then_someone_writes(log: LogAudit, *args: Any) -> None:
            real_init(log, *args)  # the audit has fixed what it covers; another officer acts now
            world.active()

        monkeypatch.setattr(LogAudit, "__init__", then_someone_writes)
        report = verify_store(world.reopen(), workers=workers)
        assert world.app.position() > before
        assert report.ok, report.failures
        assert report.events == report.tree_size == before
        assert report.root == Ledger(world.app).root(before)


class TestBlocksOfStoredSubtrees:
    """Subtree hashes are stored a block at a time; the rest is folded from leaves when read."""

    def test_small_blocks_give_the_tree_of_the_events_even_when_earlier_blocks_were_not_stored(
        self, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The world's first events were written with the default block, so none of its blocks of 4
        # were stored: completing the next ones must fold their left siblings from the leaves.
        for recorder in (SQLiteRecorder, PostgresRecorder):
            monkeypatch.setattr(recorder, "block", 4)
        for _ in range(6):
            world.active()
        leaves = recomputed_leaves(world)
        ledger = Ledger(world.app)
        assert ledger.size() == len(leaves) > 16
        stored = world.app.store_recorder.tree_nodes()
        assert stored.stored_node(2, len(leaves) // 4 - 1) is not None  # type: ignore[attr-defined]
        root = merkle.mth(leaves)
        for size in range(1, len(leaves) + 1):
            assert ledger.root(size) == merkle.mth(leaves[:size])
        for position in range(1, world.app.position() + 1):
            proof = ledger.inclusion(position)
            merkle_verify.verify_inclusion(
                proof.leaf_hash, proof.leaf_index, len(leaves), proof.proof, root
            )
        consistency = ledger.consistency(5)
        merkle_verify.verify_consistency(5, len(leaves), ledger.root(5), root, consistency.proof)
        assert verify_store(world.reopen()).ok
