"""Checking RFC 9162 inclusion and consistency proofs, given only leaf hashes, roots and proofs.

Kept apart from ``governance.ledger.merkle`` (hashing and proof generation over stored nodes)
because a checker needs nothing but ``node_hash``. Verification follows RFC 9162 §2.1.3.2 and
§2.1.4.2 literally, plus the conventions of the transparency-dev reference: a consistency proof
from size 0 is an error and equal sizes need an empty proof and equal roots. This verifier is
stricter than the reference in one way: every hash it is given (leaf hash, roots, proof elements)
must be exactly 32 bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

from governance.errors import ProofError
from governance.ledger.merkle import HASH_SIZE, node_hash


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
