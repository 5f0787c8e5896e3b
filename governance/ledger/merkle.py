"""RFC 6962 / RFC 9162 Merkle tree hashing with SHA-256, shaped for incremental storage.

The global log is an append-only list of leaves D[0:n]. Its root is MTH(D[n]) as defined in
RFC 9162 §2.1.1, with domain-separated hashes ``leaf_hash`` (0x00 prefix) and ``node_hash``
(0x01 prefix).

Storage model: a log keeps only the hashes of *perfect* subtrees. Node (level, index) covers the
leaves [index * 2**level, (index + 1) * 2**level); level 0 holds the leaf hashes. A node is stored
once it is complete and never changes afterwards, so ``append_nodes`` yields rows to INSERT and
every other function reads O(log n) of them through a ``NodeReader``.

Proof generation follows RFC 9162 §2.1.3.1 (PATH) and §2.1.4.1 (PROOF / SUBPROOF). Checking a
proof is ``governance.ledger.merkle_verify``; trees held in memory are ``merkle_trees``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from governance.errors import InvalidInput

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
