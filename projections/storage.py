"""Projection tables and their tracking, on SQLite and PostgreSQL, via the library's tracking recorders.

Each batch of projected events is written in one transaction together with the library's tracking
row, so catching up is exactly-once and resumes cleanly after a crash. SQL is written once with
``?`` placeholders and ``{t}`` table prefixes; the PostgreSQL recorder qualifies tables with its
schema and switches placeholders. The PostgreSQL recorder lives in ``projections.postgres_storage``
and is imported only for a store on PostgreSQL (psycopg is slow to import).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

PROJECTION = "watchlist-projection"
#: Bump when a projection table changes shape, or what is stored in it (7: the one judge's
#: verdicts in ``wl_then_views``): the projection is then dropped and rebuilt.
SCHEMA_VERSION = 7

TABLES = [
    "CREATE TABLE IF NOT EXISTS {t}wl_entry_facts (entry_id TEXT NOT NULL, version INTEGER NOT NULL, "
    "position BIGINT NOT NULL, kind TEXT NOT NULL, effective_at BIGINT NOT NULL, recorded_at BIGINT NOT NULL, "
    "actor TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (entry_id, version))",
    "CREATE TABLE IF NOT EXISTS {t}wl_entry_intervals (entry_id TEXT NOT NULL, known_from BIGINT NOT NULL, "
    "known_to BIGINT NOT NULL, valid_from BIGINT NOT NULL, valid_to BIGINT NOT NULL, state TEXT NOT NULL, "
    "PRIMARY KEY (entry_id, known_from, valid_from))",
    "CREATE INDEX IF NOT EXISTS {i}wl_entry_intervals_open ON {t}wl_entry_intervals (entry_id, known_to)",
    # Covers the evidence lookup (every column but the data), so it never visits the table.
    "CREATE INDEX IF NOT EXISTS {i}wl_entry_facts_places ON {t}wl_entry_facts "
    "(entry_id, position, version, kind, actor, effective_at, recorded_at)",
    "CREATE TABLE IF NOT EXISTS {t}wl_entries (entry_id TEXT PRIMARY KEY, status TEXT NOT NULL, "
    "category TEXT NOT NULL, review_by BIGINT, expires_at BIGINT, left_at BIGINT, proposed_position BIGINT NOT NULL, "
    "last_position BIGINT NOT NULL, version INTEGER NOT NULL, state TEXT NOT NULL, "
    "holds INTEGER NOT NULL DEFAULT 0, erased INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS {i}wl_entries_status ON {t}wl_entries (status, review_by)",
    # Which entries changed after a position (what a reconstruction must judge again).
    "CREATE INDEX IF NOT EXISTS {i}wl_entries_changed ON {t}wl_entries (last_position)",
    "CREATE TABLE IF NOT EXISTS {t}wl_policies (version INTEGER PRIMARY KEY, effective_at BIGINT NOT NULL, "
    "position BIGINT NOT NULL, document TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {t}wl_revocations (officer_id TEXT NOT NULL, revoked_at BIGINT NOT NULL, "
    "position BIGINT NOT NULL, PRIMARY KEY (officer_id, position))",
    "CREATE TABLE IF NOT EXISTS {t}wl_heads (stream TEXT PRIMARY KEY, version INTEGER NOT NULL, hash TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {t}wl_officers (stream TEXT PRIMARY KEY, officer_id TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {t}wl_clock (position BIGINT PRIMARY KEY, recorded_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {t}wl_retention (stream TEXT PRIMARY KEY, entry_id TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {i}wl_clock_recorded ON {t}wl_clock (recorded_at, position)",
    "CREATE TABLE IF NOT EXISTS {t}wl_deployments (deployment_id TEXT PRIMARY KEY, planned_start BIGINT NOT NULL, "
    "categories TEXT NOT NULL, started_at BIGINT, basis BIGINT, considered TEXT)",
    # Each deployment's watchlist judged as known at its basis (see ``projections.deployments``).
    "CREATE TABLE IF NOT EXISTS {t}wl_then_views (deployment_id TEXT NOT NULL, at BIGINT NOT NULL, "
    "basis BIGINT NOT NULL, views TEXT NOT NULL, PRIMARY KEY (deployment_id, at, basis))",
]


META = "CREATE TABLE IF NOT EXISTS {t}wl_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"

PROJECTION_TABLES = (
    "wl_entry_facts",
    "wl_entry_intervals",
    "wl_entries",
    "wl_policies",
    "wl_revocations",
    "wl_heads",
    "wl_officers",
    "wl_clock",
    "wl_retention",
    "wl_deployments",
    "wl_then_views",
)


class Tx(Protocol):
    """A cursor inside one projection transaction."""

    def run(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None: ...

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


class ProjectionStore(Protocol):
    """What the runner and the queries need from the projection's recorder."""

    def position(self) -> int: ...

    @contextmanager
    def writing(self, tracking: Tracking) -> Iterator[Tx]: ...

    @contextmanager
    def reading(self) -> Iterator[Tx]: ...

    def reset(self) -> None: ...


class _SQLiteTx:
    def __init__(self, cursor: Any) -> None:
        self.c = cursor
        # Plain tuples, not the library's sqlite3.Row (this class only ever reads rows by index).
        getattr(cursor, "sqlite_cursor", cursor).row_factory = None

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.c.execute(sql.format(t="", i=""), tuple(params))

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.c.executemany(sql.format(t="", i=""), [tuple(r) for r in rows])

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        self.run(sql, params)
        row: tuple[Any, ...] | None = self.c.fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.run(sql, params)
        rows: list[tuple[Any, ...]] = self.c.fetchall()
        return rows


class SQLiteProjectionRecorder(SQLiteTrackingRecorder):
    """Projection tables in the store's SQLite file."""

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            *(s.format(t="", i="") for s in TABLES),
        ]

    def create_table(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(META.format(t=""))
            c.execute("SELECT value FROM wl_meta WHERE name = 'schema'")
            row = c.fetchone()
            if row is None or int(row[0]) != SCHEMA_VERSION:
                for table in PROJECTION_TABLES:
                    c.execute(f"DROP TABLE IF EXISTS {table}")
                c.execute(
                    "INSERT INTO wl_meta VALUES ('schema', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    (str(SCHEMA_VERSION),),
                )
                if self._has_tracking(c):
                    c.execute("DELETE FROM tracking WHERE application_name = ?", (PROJECTION,))
                c.execute("DELETE FROM wl_meta WHERE name = 'reached'")
        super().create_table()

    @staticmethod
    def _has_tracking(c: Any) -> bool:
        c.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'tracking'")
        return c.fetchone() is not None

    def position(self) -> int:
        """The last store position projected."""
        return self.max_tracking_id(PROJECTION) or 0

    @contextmanager
    def writing(self, tracking: Tracking) -> Iterator[Tx]:
        with self.datastore.transaction(commit=True) as c:
            # Take the write lock first (waiting for it), so later reads cannot go stale.
            c.execute(
                "UPDATE tracking SET notification_id = notification_id WHERE application_name = ?",
                ("__migration__",),
            )
            yield _SQLiteTx(c)
            self._insert_tracking(c, tracking)

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        with self.datastore.transaction(commit=False) as c:
            yield _SQLiteTx(c)

    def reset(self) -> None:
        """Empty the projection and its tracking, so the next catch-up rebuilds it from scratch."""
        with self.datastore.transaction(commit=True) as c:
            for table in PROJECTION_TABLES:
                c.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            c.execute("DELETE FROM tracking WHERE application_name = ?", (PROJECTION,))
            c.execute("DELETE FROM wl_meta WHERE name = 'reached'")
