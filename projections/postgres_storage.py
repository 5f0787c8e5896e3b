"""The projection's tables on PostgreSQL: the library's tracking recorder, with the store's schema.

Kept apart from ``projections.storage`` so that a store on SQLite never imports psycopg.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL, Identifier

from projections.storage import META, PROJECTION, PROJECTION_TABLES, SCHEMA_VERSION, TABLES, Tx


class _PostgresTx:
    def __init__(self, cursor: Any, schema: str) -> None:
        self.c = cursor
        self.prefix = SQL("{0}.").format(Identifier(schema)).as_string(None)

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s").format(t=self.prefix, i="")

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.c.execute(self._sql(sql), tuple(params))

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.c.executemany(self._sql(sql), [tuple(r) for r in rows])

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        self.run(sql, params)
        row = self.c.fetchone()
        return None if row is None else tuple(row.values())

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.run(sql, params)
        return [tuple(r.values()) for r in self.c.fetchall()]


class PostgresProjectionRecorder(PostgresTrackingRecorder):
    """Projection tables in the store's PostgreSQL schema."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        prefix = SQL("{0}.").format(Identifier(self.datastore.schema)).as_string(None)
        for statement in TABLES:
            self.sql_create_statements.append(SQL(statement.format(t=prefix, i="")))  # type: ignore[arg-type]

    def create_table(self) -> None:
        schema = Identifier(self.datastore.schema)
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL(META.format(t="{0}.")).format(schema))
            curs.execute(SQL("SELECT value FROM {0}.wl_meta WHERE name = 'schema'").format(schema))
            row = curs.fetchone()
            if row is None or int(row["value"]) != SCHEMA_VERSION:
                for table in PROJECTION_TABLES:
                    curs.execute(
                        SQL("DROP TABLE IF EXISTS {0}.{1}").format(schema, Identifier(table))
                    )
                curs.execute(
                    SQL(
                        "INSERT INTO {0}.wl_meta VALUES ('schema', %s) "
                        "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
                    ).format(schema),
                    (str(SCHEMA_VERSION),),
                )
                curs.execute(
                    SQL("SELECT to_regclass(%s) AS t"),
                    (f"{self.datastore.schema}.{self.tracking_table_name}",),
                )
                exists = curs.fetchone()
                if exists and exists["t"] is not None:
                    curs.execute(
                        SQL("DELETE FROM {0}.{1} WHERE application_name = %s").format(
                            schema, Identifier(self.tracking_table_name)
                        ),
                        (PROJECTION,),
                    )
        super().create_table()

    def position(self) -> int:
        """The last store position projected."""
        return self.max_tracking_id(PROJECTION) or 0

    @contextmanager
    def writing(self, tracking: Tracking) -> Iterator[Tx]:
        with self.datastore.transaction(commit=True) as curs:
            # One projector at a time; a second waits, then finds the work done.
            curs.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", (self.datastore.schema + PROJECTION,)
            )
            yield _PostgresTx(curs, self.datastore.schema)
            self._insert_tracking(curs, tracking)

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        with self.datastore.transaction(commit=False) as curs:
            yield _PostgresTx(curs, self.datastore.schema)

    def reset(self) -> None:
        """Empty the projection and its tracking, so the next catch-up rebuilds it from scratch."""
        schema = Identifier(self.datastore.schema)
        with self.datastore.transaction(commit=True) as curs:
            for table in PROJECTION_TABLES:
                curs.execute(SQL("DELETE FROM {0}.{1}").format(schema, Identifier(table)))
            curs.execute(
                SQL("DELETE FROM {0}.{1} WHERE application_name = %s").format(
                    schema, Identifier(self.tracking_table_name)
                ),
                (PROJECTION,),
            )
            curs.execute(SQL("DELETE FROM {0}.wl_meta WHERE name = 'reached'").format(schema))
