"""The Merkle log as PostgreSQL stores it: reading its nodes and leaves, in or out of a write.

Kept apart from ``governance.storage.postgres_recorder`` (the recorder: its tables, statements and
writes) because this is the read side of the tree: the recorder reads through ``InTransaction``
inside its own write when a block completes; audits and proofs read through ``PostgresTreeReader``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL

from governance.ledger.leaves import read_node

if TYPE_CHECKING:
    from governance.storage.postgres_recorder import PostgresRecorder


class InTransaction:
    """The Merkle log read through an open transaction's cursor (a ``leaves.LogReader``)."""

    def __init__(self, curs: Cursor[DictRow], recorder: PostgresRecorder) -> None:
        self.curs = curs
        self.recorder = recorder

    def stored_node(self, level: int, index: int) -> bytes | None:
        self.curs.execute(self.recorder.node_statement, (level, index))
        row = self.curs.fetchone()
        return None if row is None else bytes(row["hash"])

    def leaves(self, start: int, limit: int) -> list[tuple[int, int, bytes]]:
        self.curs.execute(self.recorder.leaves_statement, (start, limit))
        return [
            (int(r["leaf_index"]), int(r["position"]), bytes(r["hash"]))
            for r in self.curs.fetchall()
        ]


class PostgresTreeReader:
    """The Merkle log on PostgreSQL: stored subtrees, and the leaves of the partial block."""

    def __init__(self, recorder: PostgresRecorder) -> None:
        self.recorder = recorder

    def _one(self, statement: Any, params: tuple[int, ...]) -> Any:
        with self.recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params)
            return curs.fetchone()

    def node(self, level: int, index: int) -> bytes:
        return read_node(self, level, index, self.recorder.block)

    def stored_node(self, level: int, index: int) -> bytes | None:
        with self.recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            return InTransaction(curs, self.recorder).stored_node(level, index)

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
        with self.recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            return InTransaction(curs, self.recorder).leaves(start, limit)
