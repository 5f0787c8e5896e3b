"""What each event contributes to the global Merkle log.

Leaf data binds an event's stream, version and type to the SHA-256 of its exact stored bytes (which
hold the signed statement, its signature and any sealed ciphertext). Leaves are appended in store
order; leaf indexes count from 0 and never depend on the store's positions being gap-free.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from eventsourcing.persistence import StoredEvent

from governance import merkle

LEAF_FORMAT = b"watchlist-leaf/1\n"


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


def append_leaves(
    size: int,
    leaves: list[tuple[int, bytes]],
    read_node: Callable[[int, int], bytes],
) -> tuple[list[tuple[int, int, bytes]], list[tuple[int, int, bytes]]]:
    """Rows to insert for ``leaves`` (position, leaf hash) appended to a tree of ``size`` leaves.

    Returns (leaf rows as (leaf_index, position, hash), node rows as (level, index, hash)). Nodes
    completed earlier in the same batch are read from the batch, the rest through ``read_node``.
    """
    fresh: dict[tuple[int, int], bytes] = {}

    def node(level: int, index: int) -> bytes:
        return fresh.get((level, index)) or read_node(level, index)

    leaf_rows, node_rows = [], []
    for offset, (position, leaf) in enumerate(leaves):
        index = size + offset
        leaf_rows.append((index, position, leaf))
        for level, node_index, digest in merkle.append_nodes(index, leaf, node):
            fresh[(level, node_index)] = digest
            node_rows.append((level, node_index, digest))
    return leaf_rows, node_rows
