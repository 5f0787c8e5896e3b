"""The store's recorders: the library's SQLite and PostgreSQL application recorders, extended.

Extensions, each written in the same transaction as the events they belong to:
- the global Merkle log (``merkle_leaves``, ``merkle_nodes``): one RFC 6962 leaf per event in store
  order, and the hash of every completed perfect subtree, so roots and proofs cost O(log n) reads;
- a key table for sealed personal data (``subject_keys``), so a data key exists exactly when the
  event that uses it does, and erasure can delete it;
- ``select_records``: a stream's events with their store positions (notification ids), which
  signature checks need because an officer's key is judged as of the event's position.
Both classes pass the library's own ``ApplicationRecorderTestCase`` (``tests/integration``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from governance.leaves import append_leaves, event_leaf_hash

#: A stored event as plain values: (position, stream id text, version, topic, state).
Row = tuple[int, str, int, str, bytes]


@dataclass(frozen=True)
class Record:
    """A stored event and its position in the store's global order."""

    position: int
    stored: StoredEvent


class WatchlistRecorder(Protocol):
    """What the application needs from a recorder beyond the library's interface."""

    def select_records(
        self, originator_id: UUID, *, gt: int | None = None, lte: int | None = None
    ) -> list[Record]: ...

    def subject_key(self, key_ref: str) -> str | None: ...

    def scrub(self) -> None: ...

    def tree_size(self) -> int: ...

    def tree_nodes(self) -> TreeReader: ...

    def select_rows(self, start: int, limit: int) -> list[Row]: ...


class TreeReader(Protocol):
    """Reads the stored Merkle log."""

    def node(self, level: int, index: int) -> bytes: ...

    def leaf_index(self, position: int) -> int | None: ...

    def leaves(self, start: int, limit: int) -> list[tuple[int, int, bytes]]: ...


def subject_key_rows(kwargs: dict[str, Any]) -> Sequence[tuple[str, str]]:
    """The (key_ref, wrapped_key) rows passed to ``insert_events`` as ``subject_keys=``."""
    rows: Sequence[tuple[str, str]] = kwargs.get("subject_keys", ())
    return rows


class SQLiteRecorder(SQLiteApplicationRecorder):
    """SQLite application recorder with positions and the subject key table."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name)
        self.select_records_statement = (
            f"SELECT rowid, * FROM {self.events_table_name} WHERE originator_id=? "  # noqa: S608
        )

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
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

    def scrub(self) -> None:
        """Flush the write-ahead log into the database and truncate it, so erased keys leave no copy."""
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            cursor.execute("PRAGMA secure_delete = ON")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _append_leaves(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], ids: Sequence[int]
    ) -> None:
        """Extend the Merkle log, in the events' own transaction (the writer holds the lock)."""
        c.execute("SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM merkle_leaves")
        size = int(c.fetchone()[0])

        def read(level: int, index: int) -> bytes:
            c.execute("SELECT hash FROM merkle_nodes WHERE level=? AND idx=?", (level, index))
            return bytes(c.fetchone()[0])

        leaf_rows, node_rows = append_leaves(
            size, [(i, event_leaf_hash(e)) for i, e in zip(ids, stored_events, strict=True)], read
        )
        c.executemany("INSERT INTO merkle_leaves VALUES (?, ?, ?)", leaf_rows)
        c.executemany("INSERT INTO merkle_nodes VALUES (?, ?, ?)", node_rows)

    def select_rows(self, start: int, limit: int) -> list[Row]:
        """Events from position ``start`` as plain tuples (stream ids as hyphenated text), for audits."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events_table_name} "  # noqa: S608
                "WHERE rowid >= ? ORDER BY rowid LIMIT ?",
                (start, limit),
            )
            return [(r[0], _hyphenate(r[1]), r[2], r[3], r[4]) for r in c.fetchall()]

    def tree_size(self) -> int:
        """Number of leaves in the Merkle log."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM merkle_leaves")
            return int(c.fetchone()[0])

    def tree_nodes(self) -> TreeReader:
        """A reader of stored tree nodes and leaves (one short transaction per read)."""
        return SQLiteTreeReader(self.datastore)

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

    def subject_key(self, key_ref: str) -> str | None:
        """The wrapped data key for ``key_ref``, or None once erased."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT wrapped FROM subject_keys WHERE key_ref=?", (key_ref,))
            row = c.fetchone()
            return None if row is None else str(row["wrapped"])


class PostgresRecorder(PostgresApplicationRecorder):
    """PostgreSQL application recorder with positions and the subject key table."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self.keys_table = SQL("{0}.{1}").format(schema, Identifier("subject_keys"))
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} (key_ref text PRIMARY KEY, wrapped text NOT NULL)"
            ).format(self.keys_table)
        )
        self.leaves_table = SQL("{0}.{1}").format(schema, Identifier("merkle_leaves"))
        self.nodes_table = SQL("{0}.{1}").format(schema, Identifier("merkle_nodes"))
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} (leaf_index bigint PRIMARY KEY, "
                "position bigint NOT NULL UNIQUE, hash bytea NOT NULL)"
            ).format(self.leaves_table)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} (level integer NOT NULL, idx bigint NOT NULL, "
                "hash bytea NOT NULL, PRIMARY KEY (level, idx))"
            ).format(self.nodes_table)
        )
        self.select_records_statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {0}.{1} WHERE originator_id = %s"
        ).format(schema, Identifier(self.events_table_name))

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Runs inside the library's guarded block after the events' own insert has been synced, so
        # a failing key insert surfaces here as IntegrityError rather than an aborted pipeline.
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        rows = subject_key_rows(kwargs)
        erased = kwargs.get("erase_keys", ())
        with curs.connection.pipeline():
            if rows:
                curs.executemany(
                    SQL("INSERT INTO {0} (key_ref, wrapped) VALUES (%s, %s)").format(
                        self.keys_table
                    ),
                    list(rows),
                )
            if erased:
                curs.executemany(
                    SQL("DELETE FROM {0} WHERE key_ref = %s").format(self.keys_table),
                    [(k,) for k in erased],
                )
        if ids:
            self._append_leaves(curs, stored_events, ids)
        return ids

    def _append_leaves(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], ids: Sequence[int]
    ) -> None:
        """Extend the Merkle log under the library's exclusive table lock, in the same transaction."""
        curs.execute(
            SQL("SELECT COALESCE(MAX(leaf_index) + 1, 0) AS size FROM {0}").format(
                self.leaves_table
            )
        )
        row = curs.fetchone()
        assert row is not None
        size = int(row["size"])

        def read(level: int, index: int) -> bytes:
            curs.execute(
                SQL("SELECT hash FROM {0} WHERE level = %s AND idx = %s").format(self.nodes_table),
                (level, index),
            )
            found = curs.fetchone()
            assert found is not None
            return bytes(found["hash"])

        leaf_rows, node_rows = append_leaves(
            size, [(i, event_leaf_hash(e)) for i, e in zip(ids, stored_events, strict=True)], read
        )
        curs.executemany(
            SQL("INSERT INTO {0} VALUES (%s, %s, %s)").format(self.leaves_table), leaf_rows
        )
        curs.executemany(
            SQL("INSERT INTO {0} VALUES (%s, %s, %s)").format(self.nodes_table), node_rows
        )

    def select_rows(self, start: int, limit: int) -> list[Row]:
        """Events from position ``start`` as plain tuples (stream ids as hyphenated text), for audits."""
        statement = SQL(
            "SELECT notification_id, originator_id::text AS stream, originator_version, topic, state "
            "FROM {0}.{1} WHERE notification_id >= %s ORDER BY notification_id LIMIT %s"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (start, limit))
            return [
                (
                    r["notification_id"],
                    r["stream"],
                    r["originator_version"],
                    r["topic"],
                    bytes(r["state"]),
                )
                for r in curs.fetchall()
            ]

    def tree_size(self) -> int:
        """Number of leaves in the Merkle log."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT COALESCE(MAX(leaf_index) + 1, 0) AS size FROM {0}").format(
                    self.leaves_table
                )
            )
            row = curs.fetchone()
            assert row is not None
            return int(row["size"])

    def tree_nodes(self) -> TreeReader:
        """A reader of stored tree nodes and leaves."""
        return PostgresTreeReader(self)

    def select_records(
        self, originator_id: UUID, *, gt: int | None = None, lte: int | None = None
    ) -> list[Record]:
        """A stream's events in version order, each with its position."""
        statement = self.select_records_statement
        params: list[Any] = [originator_id]
        if gt is not None:
            statement += SQL(" AND originator_version > %s")
            params.append(gt)
        if lte is not None:
            statement += SQL(" AND originator_version <= %s")
            params.append(lte)
        statement += SQL(" ORDER BY originator_version")
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            return [
                Record(
                    row["notification_id"],
                    StoredEvent(
                        originator_id=row["originator_id"],
                        originator_version=row["originator_version"],
                        topic=row["topic"],
                        state=bytes(row["state"]),
                    ),
                )
                for row in curs.fetchall()
            ]

    def scrub(self) -> None:
        """Nothing to do at once: PostgreSQL reclaims deleted rows at VACUUM (see docs/postgres.md)."""

    def subject_key(self, key_ref: str) -> str | None:
        """The wrapped data key for ``key_ref``, or None once erased."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT wrapped FROM {0} WHERE key_ref = %s").format(self.keys_table),
                [key_ref],
            )
            row = curs.fetchone()
            return None if row is None else str(row["wrapped"])


class SQLiteTreeReader:
    """Stored Merkle nodes on SQLite."""

    def __init__(self, datastore: SQLiteDatastore) -> None:
        self.datastore = datastore

    def node(self, level: int, index: int) -> bytes:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT hash FROM merkle_nodes WHERE level=? AND idx=?", (level, index))
            row = c.fetchone()
        if row is None:
            raise KeyError((level, index))
        return bytes(row[0])

    def leaf_index(self, position: int) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT leaf_index FROM merkle_leaves WHERE position=?", (position,))
            row = c.fetchone()
        return None if row is None else int(row[0])

    def leaves(self, start: int, limit: int) -> list[tuple[int, int, bytes]]:
        """Stored (leaf_index, position, hash) rows from ``start``, in leaf order."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT leaf_index, position, hash FROM merkle_leaves WHERE leaf_index >= ? "
                "ORDER BY leaf_index LIMIT ?",
                (start, limit),
            )
            return [(int(r[0]), int(r[1]), bytes(r[2])) for r in c.fetchall()]


class PostgresTreeReader:
    """Stored Merkle nodes on PostgreSQL."""

    def __init__(self, recorder: PostgresRecorder) -> None:
        self.recorder = recorder

    def _one(self, statement: Any, params: tuple[int, ...]) -> Any:
        with self.recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params)
            return curs.fetchone()

    def node(self, level: int, index: int) -> bytes:
        row = self._one(
            SQL("SELECT hash FROM {0} WHERE level = %s AND idx = %s").format(
                self.recorder.nodes_table
            ),
            (level, index),
        )
        if row is None:
            raise KeyError((level, index))
        return bytes(row["hash"])

    def leaf_index(self, position: int) -> int | None:
        row = self._one(
            SQL("SELECT leaf_index FROM {0} WHERE position = %s").format(
                self.recorder.leaves_table
            ),
            (position,),
        )
        return None if row is None else int(row["leaf_index"])

    def leaves(self, start: int, limit: int) -> list[tuple[int, int, bytes]]:
        """Stored (leaf_index, position, hash) rows from ``start``, in leaf order."""
        statement = SQL(
            "SELECT leaf_index, position, hash FROM {0} WHERE leaf_index >= %s "
            "ORDER BY leaf_index LIMIT %s"
        ).format(self.recorder.leaves_table)
        with self.recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (start, limit))
            return [
                (int(r["leaf_index"]), int(r["position"]), bytes(r["hash"]))
                for r in curs.fetchall()
            ]


def _hyphenate(stream: str) -> str:
    """The canonical text of a UUID stored as 32 hex digits."""
    if len(stream) != 32:
        return stream
    return f"{stream[:8]}-{stream[8:12]}-{stream[12:16]}-{stream[16:20]}-{stream[20:]}"


def as_watchlist_recorder(recorder: ApplicationRecorder) -> WatchlistRecorder:
    """The application recorder, checked to be one of ours."""
    if not isinstance(recorder, (SQLiteRecorder, PostgresRecorder)):
        raise TypeError(f"unexpected recorder {type(recorder).__name__}")
    return recorder
