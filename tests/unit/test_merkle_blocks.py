"""Property tests: a log that stores subtrees a block at a time reads as the whole tree.

Leaves are stored one by one; subtree hashes only when a block completes (``governance.ledger.leaves``).
Every root and proof read through ``read_node`` must equal the tree that stores every node.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from governance.ledger import merkle, merkle_trees
from governance.ledger.leaves import block_rows, completed_blocks, read_node

FAST = settings(max_examples=40, deadline=None)


class BlockedLog:
    """Leaves and the subtrees of completed blocks, appended as the recorders append them."""

    def __init__(self, block: int) -> None:
        self.block = block
        self.hashes: list[bytes] = []
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.leaf_reads = 0
        self.missing: set[int] = set()  # leaf rows deleted behind the store's back

    def append(self, batch: list[bytes]) -> None:
        first = len(self.hashes)
        self.hashes += [merkle.leaf_hash(data) for data in batch]
        for start in completed_blocks(first, len(batch), self.block):
            before = self.leaf_reads
            for level, index, digest in block_rows(self, start, self.block):
                assert (level, index) not in self.nodes
                assert level >= 1
                self.nodes[(level, index)] = digest
            if not self.missing:  # siblings before the block are stored: only its own leaves read
                assert self.leaf_reads - before == self.block

    def stored_node(self, level: int, index: int) -> bytes | None:
        return self.nodes.get((level, index))

    def leaves(self, start: int, limit: int) -> list[tuple[int, int, bytes]]:
        """Rows from leaf index ``start`` on, as ``WHERE leaf_index >= start LIMIT limit`` gives."""
        present = [i for i in range(max(start, 0), len(self.hashes)) if i not in self.missing]
        rows = [(i, i + 1, self.hashes[i]) for i in present[:limit]]
        self.leaf_reads += len(rows)
        return rows

    def node(self, level: int, index: int) -> bytes:
        return read_node(self, level, index, self.block)


batches = st.lists(st.lists(st.binary(max_size=4), min_size=1, max_size=9), max_size=12)


@FAST
@given(block=st.sampled_from([2, 4, 8]), appended=batches)
@example(block=4, appended=[[b"x"] * 9] * 4)
def test_roots_and_proofs_equal_the_tree_that_stores_every_node(
    block: int, appended: list[list[bytes]]
) -> None:
    log, whole = BlockedLog(block), merkle_trees.InMemoryTree()
    for batch in appended:
        log.append(batch)
        for data in batch:
            whole.append(data)
    size = whole.size
    for n in range(1, size + 1):
        assert merkle.root(n, log.node) == whole.root(n)
        assert merkle.consistency_proof(n, size, log.node) == merkle.consistency_proof(
            n, size, whole.get_node
        )
    for index in range(size):
        assert merkle.inclusion_proof(index, size, log.node) == merkle.inclusion_proof(
            index, size, whole.get_node
        )


@FAST
@given(block=st.sampled_from([2, 4, 8]), count=st.integers(min_value=1, max_value=70))
def test_only_leaves_of_the_partial_block_are_read_for_a_root(block: int, count: int) -> None:
    log = BlockedLog(block)
    for k in range(count):
        log.append([k.to_bytes(2, "big")])
    log.leaf_reads = 0  # (completing a block reads its leaves once; count only the root's reads)
    merkle.root(count, log.node)
    assert log.leaf_reads <= 2 * (count % block)  # each leaf at most twice (two fold widths)


def test_a_subtree_past_the_last_leaf_is_not_there() -> None:
    log = BlockedLog(4)
    log.append([b"a", b"b", b"c", b"d", b"e"])
    assert log.node(2, 0) == merkle.mth([b"a", b"b", b"c", b"d"])
    for level, index in [(0, 5), (1, 2), (2, 1), (3, 0)]:
        with pytest.raises(KeyError):
            log.node(level, index)


@pytest.mark.parametrize(
    ("first", "count", "block", "starts"),
    [(0, 1, 4, []), (3, 1, 4, [0]), (0, 4, 4, [0]), (2, 9, 4, [0, 4]), (5, 20, 8, [0, 8, 16])],
)
def test_completed_blocks(first: int, count: int, block: int, starts: list[int]) -> None:
    assert completed_blocks(first, count, block) == starts


def test_a_missing_leaf_or_a_negative_index_is_not_there_rather_than_a_wrong_hash() -> None:
    log = BlockedLog(8)
    log.append([b"a", b"b", b"c", b"d", b"e", b"f"])
    log.missing = {2}  # a leaf row removed behind the store's back
    for level, index in [(0, 2), (1, 1), (2, 0), (0, -1), (1, -1)]:
        with pytest.raises(KeyError):
            log.node(level, index)
    assert log.node(1, 0) == merkle.mth([b"a", b"b"])


def test_a_block_with_a_missing_leaf_is_not_stored() -> None:
    log = BlockedLog(4)
    log.append([b"a", b"b", b"c"])
    log.missing = {1}
    log.append([b"d"])  # completes block 0, whose leaf 1 is gone
    assert log.nodes == {}
