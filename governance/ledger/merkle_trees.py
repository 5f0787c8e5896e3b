"""Merkle trees held in memory: a whole tree of perfect-subtree nodes, or a growing frontier.

Both are built on the hashing of ``governance.ledger.merkle`` and touch no store: ``InMemoryTree``
serves tests and offline checks, ``Frontier`` recomputes roots while streaming leaves in O(log n).
"""

from __future__ import annotations

from governance.errors import InvalidInput
from governance.ledger.merkle import (
    EMPTY_ROOT,
    NodeReader,
    append_nodes,
    leaf_hash,
    node_hash,
    root,
)


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
