"""SQLite connections that keep their compiled statements and more of their pages.

The library opens each connection with ``sqlite3.connect(..., cached_statements=True)``, which the
``sqlite3`` module reads as a cache of *one* statement, so every statement but an immediate repeat
is compiled again. A command here runs a handful of different statements per transaction (the
event insert, the write-lock checks, the key and Merkle rows), so this factory gives each connection
a cache of ``STATEMENTS`` instead, and a page cache of ``PAGE_CACHE_KIB``; nothing else about the
library's connections changes.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from eventsourcing.persistence import InterfaceError
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteDatastore,
    SQLiteFactory,
)
from eventsourcing.utils import Environment, EnvType

#: Compiled statements kept per connection (sqlite3's own default is 128).
STATEMENTS = 128
#: Page cache per connection, in KiB (SQLite's default is 2,000 KiB). Enough to keep the upper
#: levels of a million-event store's indexes in memory, so a point lookup (an entry's events, its
#: intervals) stops re-reading them from the operating system; allocated only as pages are used.
PAGE_CACHE_KIB = 16_384


class StatementCachingPool(SQLiteConnectionPool):
    """The library's connection pool, with a real statement cache and a larger page cache."""

    def _create_connection(self) -> SQLiteConnection:
        if not self.is_journal_mode_wal:
            super()._create_connection().close()  # the library's own first connection sets WAL mode
        try:
            connection = sqlite3.connect(
                database=self.db_name,
                uri=True,
                check_same_thread=False,
                isolation_level=None,  # autocommit: the library issues BEGIN itself
                cached_statements=STATEMENTS,
                timeout=self.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT,
            )
        except (sqlite3.Error, TypeError) as error:
            raise InterfaceError(error) from error
        connection.row_factory = sqlite3.Row
        connection.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
        return SQLiteConnection(sqlite_conn=connection, max_age=self.max_age)


def with_statement_cache(datastore: SQLiteDatastore, **options: Any) -> SQLiteDatastore:
    """``datastore`` with its library pool (not yet used) replaced by a ``StatementCachingPool``."""
    library_pool = datastore.pool
    datastore.pool = StatementCachingPool(
        db_name=library_pool.db_name, lock_timeout=library_pool.lock_timeout, **options
    )
    library_pool.close()
    return datastore


class SQLiteStoreFactory(SQLiteFactory):
    """The library's SQLite factory, with ``StatementCachingPool`` connections."""

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        with_statement_cache(self.datastore)
