"""Checking the Merkle log against the events while a full audit streams past them.

The log is recomputed from the events themselves (never trusted from its tables): each event's
leaf must equal the leaf stored when it was recorded (an event edited, inserted or deleted behind the
store's back shows here), the recomputed root must equal the stored tree's root, and the log must
extend every trusted checkpoint (a rewritten, truncated or rolled-back store shows there).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from governance.errors import Failure
from governance.ledger import merkle, merkle_trees
from governance.ledger.checkpoints import Checkpoint
from governance.storage.recorders import TreeReader

PAGE = 5000
LOG = "merkle-log"


@dataclass(frozen=True)
class Trusted:
    """A checkpoint someone holds, already checked to be signed by this log for this origin."""

    label: str
    checkpoint: Checkpoint


class LogAudit:
    """Recomputes the log from events in store order and compares it with what is stored."""

    def __init__(
        self,
        reader: TreeReader,
        stored_size: int,
        trusted: list[Trusted],
        since: Trusted | None = None,
        upto: int | None = None,
    ) -> None:
        self.reader = reader
        self.stored_size = stored_size
        #: The last store position the audit covers (leaves of events appended since are not its business).
        self.upto = upto
        self.trusted = sorted(trusted, key=lambda t: t.checkpoint.size)
        self.failures: list[Failure] = []
        self.frontier = merkle_trees.Frontier()
        if since is not None:
            self.frontier = self._resume(since)
            self.trusted = [t for t in self.trusted if t.checkpoint.size > since.checkpoint.size]
        self._stored = self._stored_leaves(self.frontier.size)
        self._next = next(self._stored, None)

    def _resume(self, since: Trusted) -> merkle_trees.Frontier:
        """Start from a trusted checkpoint: its subtrees must be stored and fold to its root."""
        size = since.checkpoint.size
        try:
            frontier = (
                merkle_trees.Frontier.of_stored(size, self.reader.node)
                if size <= self.stored_size
                else None
            )
        except KeyError:
            frontier = None
        if frontier is None or frontier.root() != since.checkpoint.root:
            self.failures.append(
                Failure(
                    LOG,
                    None,
                    None,
                    f"the stored log does not extend trusted checkpoint {since.label}: "
                    "history was rewritten, forked or rolled back",
                )
            )
            return merkle_trees.Frontier()
        return frontier

    def first_position(self) -> int | None:
        """The store position of the first leaf still to check (None: nothing left)."""
        return None if self._next is None else self._next[1]

    def _stored_leaves(self, start: int) -> Iterator[tuple[int, int, bytes]]:
        while True:
            page = self.reader.leaves(start, PAGE)
            yield from (row for row in page if self.upto is None or row[1] <= self.upto)
            if len(page) < PAGE:
                return
            start = page[-1][0] + 1

    def add(self, position: int, leaf: bytes) -> list[str]:
        """Append one event's recomputed leaf hash; return problems with its stored leaf."""
        problems = []
        while self._next is not None and self._next[1] < position:
            self._deleted(self._next)
            self._next = next(self._stored, None)
        if self._next is None or self._next[1] > position:
            problems.append(
                "event has no leaf in the Merkle log: it was inserted behind the store's back"
            )
        else:
            if self._next[2] != leaf:
                problems.append(
                    "event differs from the Merkle leaf recorded with it: it was altered"
                )
            self._next = next(self._stored, None)
        self.frontier.append(leaf)
        self._check_trusted()
        return problems

    def _deleted(self, row: tuple[int, int, bytes]) -> None:
        self.failures.append(
            Failure(
                LOG,
                None,
                row[1],
                f"Merkle leaf {row[0]} names position {row[1]}, which holds no event: it was deleted",
            )
        )

    def _check_trusted(self) -> None:
        while self.trusted and self.trusted[0].checkpoint.size == self.frontier.size:
            held = self.trusted.pop(0)
            if self.frontier.root() != held.checkpoint.root:
                self.failures.append(
                    Failure(
                        LOG,
                        None,
                        None,
                        f"the log's first {held.checkpoint.size} events do not match trusted checkpoint "
                        f"{held.label}: history was rewritten or forked",
                    )
                )

    def finish(self) -> list[Failure]:
        """Problems found once every event has been seen."""
        while self._next is not None:
            self._deleted(self._next)
            self._next = next(self._stored, None)
        for held in self.trusted:
            self.failures.append(
                Failure(
                    LOG,
                    None,
                    None,
                    f"trusted checkpoint {held.label} covers {held.checkpoint.size} events but the store "
                    f"holds {self.frontier.size}: events were removed or the store was rolled back",
                )
            )
        if self.stored_size == self.frontier.size and self.stored_size:
            try:
                stored_root = merkle.root(self.stored_size, self.reader.node)
            except KeyError:
                stored_root = b""
            if stored_root != self.frontier.root():
                self.failures.append(
                    Failure(LOG, None, None, "the stored Merkle tree does not match the events")
                )
        return self.failures
