"""RFC 6962 / RFC 9162 Merkle tree hashing with SHA-256, shaped for incremental storage.

The global log is an append-only list of leaves D[0:n]. Its root is MTH(D[n]) as defined in
RFC 9162 §2.1.1, with domain-separated hashes ``leaf_hash`` (0x00 prefix) and ``node_hash``
(0x01 prefix).

Storage model: a log keeps only the hashes of *perfect* subtrees. Node (level, index) covers the
leaves [index * 2**level, (index + 1) * 2**level); level 0 holds the leaf hashes. A node is stored
once it is complete and never changes afterwards, so ``append_nodes`` yields rows to INSERT and
every other function reads O(log n) of them through a ``NodeReader``.

Proof generation follows RFC 9162 §2.1.3.1 (PATH) and §2.1.4.1 (PROOF / SUBPROOF); verification
follows §2.1.3.2 and §2.1.4.2 literally, plus the conventions of the transparency-dev reference:
a consistency proof from size 0 is an error and equal sizes need an empty proof and equal roots.
This verifier is stricter than the reference in one way: every hash it is given (leaf hash, roots,
proof elements) must be exactly 32 bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from governance.errors import InvalidInput, ProofError

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}), the root of the empty tree: SHA-256 of the empty string."""

NodeReader = Callable[[int, int], bytes]
"""Reads the stored hash of the perfect subtree node (level, index)."""


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 leaf hash SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly less than ``n`` (requires n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def mth(leaves: Sequence[bytes]) -> bytes:
    """Return MTH(D[n]) of the raw leaf data by the direct recursive definition (a test oracle)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = _split(len(leaves))
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def append_nodes(size: int, leaf: bytes, get_node: NodeReader) -> list[tuple[int, int, bytes]]:
    """Return the (level, index, hash) nodes completed by appending ``leaf`` at index ``size``.

    The first row is the leaf hash itself at level 0; each further row is the parent completed
    while the index is odd. Reads one stored left sibling per row after the first: O(log n).
    """
    if size < 0:
        raise InvalidInput(f"tree size must not be negative, got {size}")
    if len(leaf) != HASH_SIZE:
        raise InvalidInput(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf)}")
    level, index, current = 0, size, leaf
    nodes = [(level, index, current)]
    while index & 1:
        current = node_hash(get_node(level, index - 1), current)
        level, index = level + 1, index >> 1
        nodes.append((level, index, current))
    return nodes


def root(size: int, get_node: NodeReader) -> bytes:
    """Return the root of the first ``size`` leaves from popcount(size) perfect-subtree reads.

    ``size`` is decomposed into powers of two, largest (leftmost) first; the subtree hashes are
    then folded right to left, which is exactly how MTH combines them.
    """
    if size < 0:
        raise InvalidInput(f"tree size must not be negative, got {size}")
    if size == 0:
        return EMPTY_ROOT
    parts: list[bytes] = []
    offset = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            parts.append(get_node(level, offset >> level))
            offset += 1 << level
    result = parts.pop()
    while parts:
        result = node_hash(parts.pop(), result)
    return result


def subtree_hash(start: int, end: int, get_node: NodeReader) -> bytes:
    """Return MTH(D[start:end]) for any range 0 <= start <= end, from stored perfect nodes.

    Every range that occurs in RFC 9162 proofs starts at a multiple of the smallest power of two
    >= its length; those cost O(log n) reads. An unaligned range is still hashed correctly, but
    its perfect pieces are not stored nodes, so it may cost up to O(end - start) reads.
    """
    if not 0 <= start <= end:
        raise InvalidInput(f"invalid leaf range [{start}, {end})")
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and start % n == 0:
        return get_node(n.bit_length() - 1, start // n)
    k = _split(n)
    return node_hash(
        subtree_hash(start, start + k, get_node), subtree_hash(start + k, end, get_node)
    )


def inclusion_proof(index: int, size: int, get_node: NodeReader) -> list[bytes]:
    """Return the RFC 9162 §2.1.3.1 inclusion proof PATH(index, D[size]), bottom-up."""
    if not 0 <= index < size:
        raise InvalidInput(f"leaf index {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            path.append(subtree_hash(mid, end, get_node))
            end = mid
        else:
            path.append(subtree_hash(start, mid, get_node))
            start = mid
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, get_node: NodeReader) -> list[bytes]:
    """Return the RFC 9162 §2.1.4.1 consistency proof PROOF(old_size, D[new_size]), bottom-up.

    Requires 0 < old_size <= new_size; equal sizes give the empty proof.
    """
    if not 0 < old_size <= new_size:
        raise InvalidInput(f"no consistency proof from size {old_size} to size {new_size}")
    proof: list[bytes] = []
    start, end, whole = 0, new_size, True
    while old_size != end:
        mid = start + _split(end - start)
        if old_size <= mid:
            proof.append(subtree_hash(mid, end, get_node))
            end = mid
        else:
            proof.append(subtree_hash(start, mid, get_node))
            start, whole = mid, False
    if not whole:
        proof.append(subtree_hash(start, end, get_node))
    proof.reverse()
    return proof


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{name} must be {HASH_SIZE} bytes, got {len(value)}")


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check an inclusion proof per RFC 9162 §2.1.3.2; raise ``ProofError`` if it fails."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    _check_hash("leaf hash", leaf_hash)
    _check_hash("root", root)
    for i, element in enumerate(proof):
        _check_hash(f"inclusion proof element {i}", element)
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    if r != root:
        raise ProofError("inclusion proof does not lead to the expected root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check a consistency proof per RFC 9162 §2.1.4.2; raise ``ProofError`` if it fails."""
    if old_size < 0:
        raise ProofError(f"tree size must not be negative, got {old_size}")
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == 0:
        raise ProofError("a consistency proof from the empty tree is meaningless")
    _check_hash("old root", old_root)
    _check_hash("new root", new_root)
    for i, element in enumerate(proof):
        _check_hash(f"consistency proof element {i}", element)
    if old_size == new_size:
        if proof:
            raise ProofError("sizes are equal but the consistency proof is not empty")
        if old_root != new_root:
            raise ProofError("sizes are equal but the roots differ")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != old_root:
        raise ProofError("consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("consistency proof does not lead to the new root")


class InMemoryTree:
    """A whole tree held in a dict of perfect-subtree nodes (for tests and offline verification)."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        self._size = 0

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    def get_node(self, level: int, index: int) -> bytes:
        """Return the stored node (level, index); a ``NodeReader``."""
        return self.nodes[(level, index)]

    def append(self, data: bytes, *, prehashed: bool = False) -> int:
        """Append raw leaf data (or, with ``prehashed``, a leaf hash); return its index."""
        leaf = data if prehashed else leaf_hash(data)
        for level, index, value in append_nodes(self._size, leaf, self.get_node):
            self.nodes[(level, index)] = value
        self._size += 1
        return self._size - 1

    def root(self, size: int | None = None) -> bytes:
        """Return the root of the first ``size`` leaves (default: all of them)."""
        size = self._size if size is None else size
        if size > self._size:
            raise InvalidInput(f"tree has {self._size} leaves, not {size}")
        return root(size, self.get_node)


class Frontier:
    """The right edge of a growing tree: O(log n) memory, for recomputing roots while streaming."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []

    @classmethod
    def of_stored(cls, size: int, get_node: NodeReader) -> Frontier:
        """The frontier of the first ``size`` leaves, read from stored perfect subtrees (O(log n))."""
        frontier = cls()
        offset = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                frontier._stack.append((level, get_node(level, offset >> level)))
                offset += 1 << level
        frontier.size = size
        return frontier

    def append(self, leaf: bytes) -> None:
        """Append a leaf hash."""
        level, current = 0, leaf
        while self._stack and self._stack[-1][0] == level:
            _, left = self._stack.pop()
            current = node_hash(left, current)
            level += 1
        self._stack.append((level, current))
        self.size += 1

    def root(self) -> bytes:
        """MTH of the leaves appended so far."""
        if not self._stack:
            return EMPTY_ROOT
        current = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            current = node_hash(left, current)
        return current
