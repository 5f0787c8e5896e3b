"""What each event contributes to the global Merkle log, and how the log's subtrees are kept.

Leaf data binds an event's stream, version and type to the SHA-256 of its exact stored bytes (which
hold the signed statement, its signature and any sealed ciphertext). Leaves are appended in store
order; leaf indexes count from 0 and never depend on the store's positions being gap-free.

Every leaf is written in its event's own transaction. The hashes of perfect subtrees (the nodes a
root or proof is folded from) are written a block at a time: the write that completes a block of
``BLOCK`` leaves stores every subtree that block completes. A subtree over the last, partial block is
folded from its leaves when read (``LogReader``), so no read ever needs more than ``BLOCK - 1``
leaves beyond the stored nodes, and a single-event write adds one row, not one per tree level.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Protocol

from eventsourcing.persistence import StoredEvent

from governance.ledger import merkle

LEAF_FORMAT = b"watchlist-leaf/1\n"
#: Leaves per block: subtree hashes are stored when a block completes (a power of two, >= 2; recorders
#: hold it as ``block`` so tests can make it small).
BLOCK = 64


def leaf_data(stream: str, version: int, topic: str, state: bytes) -> bytes:
    """The RFC 6962 leaf input for one stored event."""
    return leaf_bytes(stream, version, topic, hashlib.sha256(state).hexdigest())


def leaf_bytes(stream: str, version: int, topic: str, state_digest: str) -> bytes:
    """The leaf input, given the hex SHA-256 of the event's stored bytes."""
    return LEAF_FORMAT + f"{stream}\n{version}\n{topic}\n{state_digest}".encode()


def event_leaf_hash(stored: StoredEvent) -> bytes:
    """The leaf hash of a stored event."""
    return merkle.leaf_hash(
        leaf_data(str(stored.originator_id), stored.originator_version, stored.topic, stored.state)
    )


def block_nodes(
    start: int, leaves: list[bytes], read_node: Callable[[int, int], bytes]
) -> list[tuple[int, int, bytes]]:
    """Node rows (level >= 1) completed by appending the leaf hashes ``leaves`` from index ``start``.

    Nodes inside the run are computed from it; left siblings before it are read through
    ``read_node``.
    """
    fresh: dict[tuple[int, int], bytes] = {}

    def node(level: int, index: int) -> bytes:
        return fresh.get((level, index)) or read_node(level, index)

    rows = []
    for offset, leaf in enumerate(leaves):
        for level, index, digest in merkle.append_nodes(start + offset, leaf, node):
            fresh[(level, index)] = digest
            if level:
                rows.append((level, index, digest))
    return rows


def block_rows(log: LogReader, start: int, block: int) -> list[tuple[int, int, bytes]]:
    """Node rows to store for the completed block of leaves from ``start``, read through ``log``.

    Siblings before the block are stored, or folded from leaves if not (a block size changed, or
    rows removed behind the store's back). A block missing a leaf row gives no rows at all: nothing
    is folded from the wrong leaves, and the audit reports the gap.
    """
    leaves = leaf_run(log, start, block)
    if leaves is None:
        return []
    return block_nodes(start, leaves, lambda level, index: read_node(log, level, index, block))


def completed_blocks(first: int, count: int, block: int) -> list[int]:
    """Start indexes of the blocks completed by appending ``count`` leaves from index ``first``."""
    first_end = (first // block + 1) * block
    return list(range(first_end - block, first + count - block + 1, block))


class LogReader(Protocol):
    """What a recorder's tree reader provides; ``read_node`` builds node reads on it."""

    def stored_node(self, level: int, index: int) -> bytes | None: ...

    def leaves(self, start: int, limit: int) -> list[tuple[int, int, bytes]]: ...


def read_node(log: LogReader, level: int, index: int, block: int) -> bytes:
    """The hash of perfect subtree (level, index): stored, or folded from the leaves under it.

    Raises ``KeyError`` when the subtree reaches past the log's last leaf, or a leaf under it is
    missing.
    """
    if index < 0:
        raise KeyError((level, index))
    if level:
        stored = log.stored_node(level, index)
        if stored is not None:
            return stored
    width = 1 << level
    if width > block:  # over the partial block: the left half is stored, fold the right half
        return merkle.node_hash(
            read_node(log, level - 1, 2 * index, block),
            read_node(log, level - 1, 2 * index + 1, block),
        )
    hashes = leaf_run(log, index * width, width)
    if hashes is None:
        raise KeyError((level, index))
    while len(hashes) > 1:
        hashes = [merkle.node_hash(a, b) for a, b in zip(hashes[::2], hashes[1::2], strict=True)]
    return hashes[0]


def leaf_run(log: LogReader, start: int, count: int) -> list[bytes] | None:
    """The hashes of leaves ``start`` to ``start + count - 1``, or None unless every one is there."""
    rows = log.leaves(start, count)
    if len(rows) != count or rows[0][0] != start or rows[-1][0] != start + count - 1:
        return None  # past the end, or a leaf row removed behind the store's back
    return [row[2] for row in rows]
