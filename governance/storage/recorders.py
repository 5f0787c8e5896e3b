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

from eventsourcing.persistence import ApplicationRecorder

from governance.storage.postgres_recorder import PostgresRecorder, PostgresTreeReader
from governance.storage.records import Record, Row, TreeReader, WatchlistRecorder, subject_key_rows
from governance.storage.sqlite_recorder import SQLiteRecorder, SQLiteTreeReader

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
    if not isinstance(recorder, (SQLiteRecorder, PostgresRecorder)):
        raise TypeError(f"unexpected recorder {type(recorder).__name__}")
    return recorder
