"""The SQLite application recorder, extended (see ``governance.storage.recorders``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from governance.ledger.leaves import BLOCK, block_rows, completed_blocks, event_leaf_hash, read_node
from governance.storage.records import (
    GOVERNANCE_TOPICS,
    Record,
    Row,
    StaleGovernance,
    TreeReader,
    governance_known,
    hyphenate,
    subject_key_rows,
)

_IN_GOVERNANCE = f"topic IN ({', '.join('?' * len(GOVERNANCE_TOPICS))})"
#: One statement per leaf: its index is the next one, read under the write lock the insert holds.
_APPEND_LEAF = (
    "INSERT INTO merkle_leaves (leaf_index, position, hash) "
    "SELECT COALESCE(MAX(leaf_index) + 1, 0), ?, ? FROM merkle_leaves"
)
_NODE = "SELECT hash FROM merkle_nodes WHERE level=? AND idx=?"
#: Streams read per query by ``select_streams`` (under SQLite's limit of bound parameters).
STREAMS_PER_QUERY = 500
_LEAVES = (
    "SELECT leaf_index, position, hash FROM merkle_leaves WHERE leaf_index >= ? "
    "ORDER BY leaf_index LIMIT ?"
)


class SQLiteRecorder(SQLiteApplicationRecorder):
    """SQLite application recorder with positions and the subject key table."""

    block = BLOCK  # Merkle leaves per block of stored subtrees (see ``governance.ledger.leaves``)

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name)
        self.select_records_statement = (
            f"SELECT rowid, * FROM {self.events_table_name} WHERE originator_id=? "  # noqa: S608
        )

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        # Finding events of a few types (policy versions, officers, disclosures) without a scan.
        statements.append(
            f"CREATE INDEX IF NOT EXISTS {self.events_table_name}_topic "
            f"ON {self.events_table_name} (topic)"
        )
        statements.append(
            "CREATE TABLE IF NOT EXISTS subject_keys ("
            "key_ref TEXT PRIMARY KEY, wrapped TEXT NOT NULL) WITHOUT ROWID"
        )
        statements.append(
            "CREATE TABLE IF NOT EXISTS merkle_leaves ("
            "leaf_index INTEGER PRIMARY KEY, position INTEGER NOT NULL UNIQUE, hash BLOB NOT NULL)"
        )
        statements.append(
            "CREATE TABLE IF NOT EXISTS merkle_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, "
            "hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID"
        )
        return statements

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        known = governance_known(kwargs)
        if known is not None and ids:
            # The insert holds the write lock: was any officer or policy event stored after the
            # position the writer's checks relied on? (Then nothing is written: see StaleGovernance.)
            c.execute(
                f"SELECT 1 FROM {self.events_table_name} WHERE {_IN_GOVERNANCE} "  # noqa: S608
                "AND rowid > ? AND rowid < ? LIMIT 1",
                (*GOVERNANCE_TOPICS, known, min(ids)),
            )
            if c.fetchone() is not None:
                raise StaleGovernance(known)
        for key_ref, wrapped in subject_key_rows(kwargs):
            c.execute(
                "INSERT INTO subject_keys (key_ref, wrapped) VALUES (?, ?)", (key_ref, wrapped)
            )
        erased = kwargs.get("erase_keys", ())
        if erased:
            c.execute("PRAGMA secure_delete = ON")  # freed pages are zeroed, not left readable
            c.executemany("DELETE FROM subject_keys WHERE key_ref = ?", [(k,) for k in erased])
        if ids:
            self._append_leaves(c, stored_events, ids)
        return ids

    def scrub(self) -> bool:
        """Flush the write-ahead log into the database and truncate it, so erased keys leave no copy.

        Returns False when another connection's open read prevents it (it is then retried later:
        see ``WatchlistApp.scrub``); waits at most a few seconds rather than the full lock timeout.
        """
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            cursor.execute("PRAGMA secure_delete = ON")
            cursor.execute("PRAGMA busy_timeout = 2000")
            try:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy = cursor.fetchone()[0]
            finally:
                timeout_ms = int((self.datastore.pool.lock_timeout or 5) * 1000)
                cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")
        return not busy

    def _append_leaves(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], ids: Sequence[int]
    ) -> None:
        """Extend the Merkle log, in the events' own transaction (the writer holds the lock).

        Each leaf is one row; a write that completes a block also stores the block's subtrees.
        """
        first = None
        for position, stored in zip(ids, stored_events, strict=True):
            c.execute(_APPEND_LEAF, (position, event_leaf_hash(stored)))
            if first is None:
                first = int(c.lastrowid)  # an INTEGER PRIMARY KEY is the rowid: the leaf index
        if first is None:
            return
        log = _InTransaction(c)
        for start in completed_blocks(first, len(ids), self.block):
            # OR IGNORE: a store written before blocks were introduced already holds every node.
            c.executemany(
                "INSERT OR IGNORE INTO merkle_nodes VALUES (?, ?, ?)",
                block_rows(log, start, self.block),
            )

    def select_rows(self, start: int, limit: int) -> list[Row]:
        """Events from position ``start`` as plain tuples (stream ids as hyphenated text), for audits."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events_table_name} "  # noqa: S608
                "WHERE rowid >= ? ORDER BY rowid LIMIT ?",
                (start, limit),
            )
            return [(r[0], hyphenate(r[1]), r[2], r[3], r[4]) for r in c.fetchall()]

    def governance_since(self, after: int) -> tuple[int, list[Record]]:
        """The store's last position, and the officer and policy events after ``after``."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {self.events_table_name}")  # noqa: S608
            last = int(c.fetchone()[0])
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events_table_name} "  # noqa: S608
                f"WHERE {_IN_GOVERNANCE} AND rowid > ? AND rowid <= ? ORDER BY rowid",
                (*GOVERNANCE_TOPICS, after, last),
            )
            return last, [
                Record(int(r[0]), StoredEvent(UUID(r[1]), int(r[2]), str(r[3]), bytes(r[4])))
                for r in c.fetchall()
            ]

    def tree_size(self) -> int:
        """Number of leaves in the Merkle log."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM merkle_leaves")
            return int(c.fetchone()[0])

    def tree_nodes(self) -> TreeReader:
        """A reader of stored tree nodes and leaves (one short transaction per read)."""
        return SQLiteTreeReader(self.datastore, self.block)

    def select_records(
        self, originator_id: UUID, *, gt: int | None = None, lte: int | None = None
    ) -> list[Record]:
        """A stream's events in version order, each with its position."""
        statement = self.select_records_statement
        params: list[Any] = [originator_id.hex]
        if gt is not None:
            statement += "AND originator_version>? "
            params.append(gt)
        if lte is not None:
            statement += "AND originator_version<=? "
            params.append(lte)
        statement += "ORDER BY originator_version"
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return [
                Record(
                    row["rowid"],
                    StoredEvent(
                        originator_id=UUID(row["originator_id"]),
                        originator_version=row["originator_version"],
                        topic=row["topic"],
                        state=row["state"],
                    ),
                )
                for row in c.fetchall()
            ]

    def select_streams(self, originator_ids: Sequence[UUID]) -> list[Record]:
        """Every event of these streams, by stream then version, read in a few queries."""
        found: list[Record] = []
        ids = {i.hex: i for i in originator_ids}  # one UUID per stream, not one per event
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(originator_ids), STREAMS_PER_QUERY):
                chunk = [i.hex for i in originator_ids[start : start + STREAMS_PER_QUERY]]
                c.execute(
                    f"SELECT rowid, originator_id, originator_version, topic, state "  # noqa: S608
                    f"FROM {self.events_table_name} WHERE originator_id IN "
                    f"({', '.join('?' * len(chunk))}) ORDER BY originator_id, originator_version",
                    chunk,
                )
                found += [
                    Record(
                        row[0],
                        StoredEvent(
                            originator_id=ids[row[1]],
                            originator_version=row[2],
                            topic=row[3],
                            state=row[4],
                        ),
                    )
                    for row in c.fetchall()
                ]
        return found

    def subject_key(self, key_ref: str) -> str | None:
        """The wrapped data key for ``key_ref``, or None once erased."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT wrapped FROM subject_keys WHERE key_ref=?", (key_ref,))
            row = c.fetchone()
            return None if row is None else str(row["wrapped"])

    def subject_key_refs(self) -> set[str]:
        """Every key_ref that still has a data key (one read, for the audit)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT key_ref FROM subject_keys")
            return {str(row["key_ref"]) for row in c.fetchall()}


class _InTransaction:
    """The Merkle log read through an open transaction's cursor (a ``leaves.LogReader``)."""

    def __init__(self, c: SQLiteCursor) -> None:
        self.c = c

    def stored_node(self, level: int, index: int) -> bytes | None:
        self.c.execute(_NODE, (level, index))
        row = self.c.fetchone()
        return None if row is None else bytes(row[0])

    def leaves(self, start: int, limit: int) -> list[tuple[int, int, bytes]]:
        self.c.execute(_LEAVES, (start, limit))
        return [(int(r[0]), int(r[1]), bytes(r[2])) for r in self.c.fetchall()]


class SQLiteTreeReader:
    """The Merkle log on SQLite: stored subtrees, and the leaves of the partial block."""

    def __init__(self, datastore: SQLiteDatastore, block: int) -> None:
        self.datastore = datastore
        self.block = block

    def node(self, level: int, index: int) -> bytes:
        return read_node(self, level, index, self.block)

    def stored_node(self, level: int, index: int) -> bytes | None:
        with self.datastore.transaction(commit=False) as c:
            return _InTransaction(c).stored_node(level, index)

    def leaf_index(self, position: int) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT leaf_index FROM merkle_leaves WHERE position=?", (position,))
            row = c.fetchone()
        return None if row is None else int(row[0])

    def leaves(self, start: int, limit: int) -> list[tuple[int, int, bytes]]:
        """Stored (leaf_index, position, hash) rows from ``start``, in leaf order."""
        with self.datastore.transaction(commit=False) as c:
            return _InTransaction(c).leaves(start, limit)
