"""The store's recorders: the library's SQLite and PostgreSQL application recorders, extended.

Extensions, each written in the same transaction as the events they belong to:
- the global Merkle log (``merkle_leaves``, ``merkle_nodes``): one RFC 6962 leaf per event in store
  order, and the hash of every completed perfect subtree, so roots and proofs cost O(log n) reads;
- a key table for sealed personal data (``subject_keys``), so a data key exists exactly when the
  event that uses it does, and erasure can delete it;
- ``select_records``: a stream's events with their store positions (notification ids), which
  signature checks need because an officer's key is judged as of the event's position.
Both classes pass the library's own ``ApplicationRecorderTestCase`` (``tests/integration``).

The PostgreSQL classes are imported only when asked for (psycopg takes longer to import than the
rest of a command on SQLite): the library constructs the recorder from its topic in the settings,
and ``PostgresRecorder`` / ``PostgresTreeReader`` here load their modules on first access.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import ApplicationRecorder

from governance.storage.records import Record, Row, TreeReader, WatchlistRecorder, subject_key_rows
from governance.storage.sqlite_recorder import SQLiteRecorder, SQLiteTreeReader

if TYPE_CHECKING:
    from governance.storage.postgres_recorder import PostgresRecorder
    from governance.storage.postgres_tree import PostgresTreeReader

__all__ = [
    "PostgresRecorder",
    "PostgresTreeReader",
    "Record",
    "Row",
    "SQLiteRecorder",
    "SQLiteTreeReader",
    "TreeReader",
    "WatchlistRecorder",
    "as_watchlist_recorder",
    "subject_key_rows",
]


def as_watchlist_recorder(recorder: ApplicationRecorder) -> WatchlistRecorder:
    """The application recorder, checked to be one of ours."""
    if isinstance(recorder, SQLiteRecorder):
        return recorder
    # A PostgresRecorder exists only once the library imported its module (named by the topic).
    if "governance.storage.postgres_recorder" in sys.modules:
        from governance.storage.postgres_recorder import PostgresRecorder  # noqa: PLC0415

        if isinstance(recorder, PostgresRecorder):
            return recorder
    raise TypeError(f"unexpected recorder {type(recorder).__name__}")


def __getattr__(name: str) -> Any:
    """``PostgresRecorder`` and ``PostgresTreeReader``, imported on first access."""
    if name in ("PostgresRecorder", "PostgresTreeReader"):
        from governance.storage import postgres_recorder, postgres_tree  # noqa: PLC0415 - psycopg on demand

        return getattr(postgres_recorder if name == "PostgresRecorder" else postgres_tree, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
