"""The PostgreSQL application recorder, extended (see ``governance.storage.recorders``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from governance.ledger.leaves import BLOCK, block_rows, completed_blocks, event_leaf_hash
from governance.storage.postgres_tree import InTransaction, PostgresTreeReader
from governance.storage.records import (
    GOVERNANCE_TOPICS,
    Record,
    Row,
    StaleGovernance,
    TreeReader,
    governance_known,
    subject_key_rows,
)


class PostgresRecorder(PostgresApplicationRecorder):
    """PostgreSQL application recorder with positions and the subject key table."""

    block = BLOCK  # Merkle leaves per block of stored subtrees (see ``governance.ledger.leaves``)

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self.keys_table = SQL("{0}.{1}").format(schema, Identifier("subject_keys"))
        # Finding events of a few types (policy versions, officers, disclosures) without a scan.
        self.sql_create_statements.append(
            SQL("CREATE INDEX IF NOT EXISTS {0} ON {1}.{2} (topic, notification_id)").format(
                Identifier(f"{self.events_table_name}_topic"),
                schema,
                Identifier(self.events_table_name),
            )
        )
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
        events = SQL("{0}.{1}").format(schema, Identifier(self.events_table_name))
        self.governance_after = SQL(
            "SELECT 1 FROM {0} WHERE topic = ANY(%s) AND notification_id > %s LIMIT 1"
        ).format(events)
        self.governance_feed = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {0} "
            "WHERE topic = ANY(%s) AND notification_id > %s AND notification_id <= %s "
            "ORDER BY notification_id"
        ).format(events)
        self.last_position = SQL(
            "SELECT COALESCE(MAX(notification_id), 0) AS last FROM {0}"
        ).format(events)
        self.node_statement = SQL("SELECT hash FROM {0} WHERE level = %s AND idx = %s").format(
            self.nodes_table
        )
        self.leaves_statement = SQL(
            "SELECT leaf_index, position, hash FROM {0} WHERE leaf_index >= %s "
            "ORDER BY leaf_index LIMIT %s"
        ).format(self.leaves_table)
        self.select_records_statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {0}.{1} WHERE originator_id = %s"
        ).format(schema, Identifier(self.events_table_name))

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        known = governance_known(kwargs)
        if known is not None:
            # Under the library's exclusive table lock, taken first: was any officer or policy
            # event stored after the position the writer's checks relied on? Then insert nothing.
            self._lock_table(curs)
            curs.execute(self.governance_after, (list(GOVERNANCE_TOPICS), known))
            if curs.fetchone() is not None:
                raise StaleGovernance(known)
        super()._insert_stored_events(curs, stored_events, **kwargs)

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
        """Extend the Merkle log under the library's exclusive table lock, in the same transaction.

        One row per leaf; a write that completes a block also stores the block's subtrees.
        """
        curs.execute(
            SQL("SELECT COALESCE(MAX(leaf_index) + 1, 0) AS size FROM {0}").format(
                self.leaves_table
            )
        )
        row = curs.fetchone()
        assert row is not None
        size = int(row["size"])
        leaf_rows = [
            (size + k, position, event_leaf_hash(stored))
            for k, (position, stored) in enumerate(zip(ids, stored_events, strict=True))
        ]
        curs.executemany(
            SQL("INSERT INTO {0} VALUES (%s, %s, %s)").format(self.leaves_table), leaf_rows
        )
        log = InTransaction(curs, self)
        for start in completed_blocks(size, len(leaf_rows), self.block):
            # DO NOTHING: a store written before blocks were introduced already holds every node.
            curs.executemany(
                SQL("INSERT INTO {0} VALUES (%s, %s, %s) ON CONFLICT DO NOTHING").format(
                    self.nodes_table
                ),
                block_rows(log, start, self.block),
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

    def governance_since(self, after: int) -> tuple[int, list[Record]]:
        """The store's last position, and the officer and policy events after ``after``."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.last_position)
            row = curs.fetchone()
            assert row is not None
            last = int(row["last"])
            curs.execute(self.governance_feed, (list(GOVERNANCE_TOPICS), after, last))
            return last, [_record(r) for r in curs.fetchall()]

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
            return [_record(row) for row in curs.fetchall()]

    def scrub(self) -> bool:
        """Nothing to do at once: PostgreSQL reclaims deleted rows at VACUUM (see docs/postgres.md)."""
        return True

    def select_streams(self, originator_ids: Sequence[UUID]) -> list[Record]:
        """Every event of these streams, by stream then version, read in one query."""
        statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {0}.{1} WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (list(originator_ids),))
            return [_record(row) for row in curs.fetchall()]

    def subject_key(self, key_ref: str) -> str | None:
        """The wrapped data key for ``key_ref``, or None once erased."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT wrapped FROM {0} WHERE key_ref = %s").format(self.keys_table),
                [key_ref],
            )
            row = curs.fetchone()
            return None if row is None else str(row["wrapped"])

    def subject_key_refs(self) -> set[str]:
        """Every key_ref that still has a data key (one read, for the audit)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT key_ref FROM {0}").format(self.keys_table))
            return {str(row["key_ref"]) for row in curs.fetchall()}


def _record(row: Any) -> Record:
    """A stored event and its position, from a row of the events table."""
    return Record(
        int(row["notification_id"]),
        StoredEvent(
            originator_id=row["originator_id"],
            originator_version=int(row["originator_version"]),
            topic=row["topic"],
            state=bytes(row["state"]),
        ),
    )
