"""Property tests: the incremental, node-store Merkle tree agrees with the RFC 9162 definition."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from governance.errors import InvalidInput, ProofError
from governance.ledger import merkle, merkle_trees
from governance.ledger.merkle import (
    EMPTY_ROOT,
    NodeReader,
    append_nodes,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    mth,
    node_hash,
    root,
    subtree_hash,
)
from governance.ledger.merkle_trees import InMemoryTree
from governance.ledger.merkle_verify import verify_consistency, verify_inclusion

MAX_LEAVES = 64
FAST = settings(max_examples=30, deadline=None)

leaf_lists = st.lists(st.binary(max_size=8), max_size=MAX_LEAVES)
nonempty_leaf_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=MAX_LEAVES)
# Hypothesis favours small lists, so the largest trees are always tried explicitly too.
FULL = [i.to_bytes(2, "big") for i in range(MAX_LEAVES)]


def _tree(leaves: list[bytes]) -> InMemoryTree:
    tree = InMemoryTree()
    for leaf in leaves:
        tree.append(leaf)
    return tree


class _CountingReader:
    """Wraps a NodeReader and counts the reads."""

    def __init__(self, inner: NodeReader) -> None:
        self.inner = inner
        self.reads = 0

    def __call__(self, level: int, index: int) -> bytes:
        self.reads += 1
        return self.inner(level, index)


def _flip(value: bytes, bit: int) -> bytes:
    flipped = bytearray(value)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


def test_the_hash_primitives_are_domain_separated_sha256() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert node_hash(leaf_hash(b""), leaf_hash(b"")) != leaf_hash(leaf_hash(b"") * 2)
    assert mth([]) == EMPTY_ROOT


@FAST
@given(leaf_lists)
@example(FULL)
@example(FULL[:-1])
def test_the_root_of_every_prefix_equals_the_recursive_definition(leaves: list[bytes]) -> None:
    tree = _tree(leaves)

    for size in range(len(leaves) + 1):
        assert tree.root(size) == mth(leaves[:size])


@FAST
@given(leaf_lists)
@example(FULL)
@example(FULL[:-1])
def test_append_nodes_stores_exactly_the_complete_perfect_subtrees(leaves: list[bytes]) -> None:
    nodes: dict[tuple[int, int], bytes] = {}
    for size, leaf in enumerate(leaves):
        rows = append_nodes(size, leaf_hash(leaf), lambda level, index: nodes[(level, index)])
        assert rows[0] == (0, size, leaf_hash(leaf))
        for level, index, value in rows:
            assert (level, index) not in nodes, "a stored node is never rewritten"
            nodes[(level, index)] = value
        assert root(size + 1, lambda level, index: nodes[(level, index)]) == mth(leaves[: size + 1])

    n = len(leaves)
    expected = {(lv, i) for lv in range(n.bit_length()) for i in range(n >> lv)}
    assert set(nodes) == expected
    for (level, index), value in nodes.items():
        assert value == mth(leaves[index << level : (index + 1) << level])


def test_root_reads_one_stored_node_per_set_bit_of_the_size() -> None:
    tree = _tree(FULL)

    for size in range(MAX_LEAVES + 1):
        reader = _CountingReader(tree.get_node)
        assert root(size, reader) == mth(FULL[:size])
        assert reader.reads == size.bit_count()


@FAST
@given(leaf_lists, st.data())
def test_subtree_hash_of_any_range_equals_the_recursive_definition(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = _tree(leaves)
    start = data.draw(st.integers(0, len(leaves)))
    end = data.draw(st.integers(start, len(leaves)))

    assert subtree_hash(start, end, tree.get_node) == mth(leaves[start:end])


@FAST
@given(nonempty_leaf_lists)
@example(FULL)
@example(FULL[:-1])
def test_a_generated_inclusion_proof_verifies_for_every_leaf(leaves: list[bytes]) -> None:
    tree = _tree(leaves)
    size = len(leaves)

    for index, leaf in enumerate(leaves):
        reader = _CountingReader(tree.get_node)
        proof = inclusion_proof(index, size, reader)
        assert reader.reads <= 2 * size.bit_length()
        verify_inclusion(leaf_hash(leaf), index, size, proof, tree.root())


@FAST
@given(nonempty_leaf_lists)
@example(FULL)
@example(FULL[:-1])
def test_every_consistency_pair_with_a_nonempty_old_tree_verifies(leaves: list[bytes]) -> None:
    tree = _tree(leaves)
    roots = [tree.root(size) for size in range(len(leaves) + 1)]

    for new_size in range(1, len(leaves) + 1):
        for old_size in range(1, new_size + 1):
            reader = _CountingReader(tree.get_node)
            proof = consistency_proof(old_size, new_size, reader)
            assert reader.reads <= 2 * new_size.bit_length()
            verify_consistency(old_size, new_size, roots[old_size], roots[new_size], proof)


@FAST
@given(st.integers(1, MAX_LEAVES), st.data())
def test_a_flipped_bit_in_any_proof_hash_is_rejected(size: int, data: st.DataObject) -> None:
    leaves = FULL[:size]
    tree = _tree(leaves)
    index = data.draw(st.integers(0, size - 1))
    old_size = data.draw(st.integers(1, size))
    inclusion = inclusion_proof(index, size, tree.get_node)
    consistency = consistency_proof(old_size, size, tree.get_node)

    for position, element in enumerate(inclusion):
        for bit in range(8 * len(element)):
            bad = [*inclusion[:position], _flip(element, bit), *inclusion[position + 1 :]]
            with pytest.raises(ProofError):
                verify_inclusion(leaf_hash(leaves[index]), index, size, bad, tree.root())
    for position, element in enumerate(consistency):
        for bit in range(8 * len(element)):
            bad = [*consistency[:position], _flip(element, bit), *consistency[position + 1 :]]
            with pytest.raises(ProofError):
                verify_consistency(old_size, size, tree.root(old_size), tree.root(), bad)


@FAST
@given(st.integers(1, MAX_LEAVES), st.data())
def test_a_flipped_bit_in_the_leaf_hash_or_either_root_is_rejected(
    size: int, data: st.DataObject
) -> None:
    tree = _tree(FULL[:size])
    index = data.draw(st.integers(0, size - 1))
    old_size = data.draw(st.integers(1, size))
    bit = data.draw(st.integers(0, 255))
    leaf, old_root, new_root = leaf_hash(FULL[index]), tree.root(old_size), tree.root()
    inclusion = inclusion_proof(index, size, tree.get_node)
    consistency = consistency_proof(old_size, size, tree.get_node)

    with pytest.raises(ProofError):
        verify_inclusion(_flip(leaf, bit), index, size, inclusion, new_root)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, inclusion, _flip(new_root, bit))
    with pytest.raises(ProofError):
        verify_consistency(old_size, size, _flip(old_root, bit), new_root, consistency)
    with pytest.raises(ProofError):
        verify_consistency(old_size, size, old_root, _flip(new_root, bit), consistency)


@FAST
@given(nonempty_leaf_lists, st.data())
def test_a_proof_for_another_index_or_size_or_with_an_extra_hash_is_rejected(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = _tree(leaves)
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(index, size, tree.get_node)
    leaf = leaf_hash(leaves[index])

    for other in range(size + 1):
        if other != index and (other == size or leaves[other] != leaves[index]):
            with pytest.raises(ProofError):
                verify_inclusion(leaf, other, size, proof, tree.root())
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, [*proof, tree.root()], tree.root())
    if proof:
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, proof[:-1], tree.root())
    old_size = data.draw(st.integers(1, size))
    consistency = consistency_proof(old_size, size, tree.get_node)
    with pytest.raises(ProofError):
        verify_consistency(old_size, size, tree.root(old_size), tree.root(), [*consistency, leaf])


def test_proof_generation_refuses_impossible_requests() -> None:
    tree = _tree([b"a", b"b", b"c"])

    with pytest.raises(InvalidInput):
        inclusion_proof(3, 3, tree.get_node)
    with pytest.raises(InvalidInput):
        consistency_proof(0, 3, tree.get_node)
    with pytest.raises(InvalidInput):
        consistency_proof(3, 2, tree.get_node)
    assert consistency_proof(3, 3, tree.get_node) == []


def test_verification_rejects_hashes_that_are_not_32_bytes() -> None:
    tree = _tree([b"a", b"b", b"c"])
    proof = inclusion_proof(0, 3, tree.get_node)

    with pytest.raises(ProofError, match="32 bytes"):
        verify_inclusion(leaf_hash(b"a")[:31], 0, 3, proof, tree.root())
    with pytest.raises(ProofError, match="32 bytes"):
        verify_inclusion(leaf_hash(b"a"), 0, 3, [*proof[:-1], b""], tree.root())
    with pytest.raises(ProofError, match="32 bytes"):
        verify_consistency(3, 3, tree.root().hex().encode(), tree.root().hex().encode(), [])


@given(st.lists(st.binary(max_size=8), max_size=70))
def test_a_streaming_frontier_gives_the_same_root_as_the_definition_at_every_size(
    leaves: list[bytes],
) -> None:
    frontier = merkle_trees.Frontier()
    assert frontier.root() == merkle.EMPTY_ROOT
    for count, data in enumerate(leaves, start=1):
        frontier.append(merkle.leaf_hash(data))
        assert frontier.root() == merkle.mth(leaves[:count])
