"""One projection transaction's reads and writes, so each row is read and written once.

``Batch`` caches what the events of one page of the notification log need (stream heads, an
entry's facts and open interval rows), collects the rows they produce, and writes them all in
``flush``; with a process pool, the page's signatures are checked on every core first (``settle``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from governance.application import WatchlistApp
from governance.domain.facts import Fact
from governance.errors import Failure, IntegrityFailure
from governance.integrity.checked import SignatureJob, failing_jobs
from governance.integrity.envelope import GENESIS_PREV
from governance.times import from_micros
from projections.deployments import Judging, Plan, write_plans
from projections.intervals import OPEN
from projections.storage import Tx

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

#: Deferred signature checks per task sent to a worker process.
CHUNK = 500


@dataclass
class Batch:
    """What one projection transaction has read and will write, so each row is touched once."""

    app: WatchlistApp
    tx: Tx
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    facts: dict[str, list[Fact]] = field(default_factory=dict)
    open_rows: dict[str, dict[tuple[int, int, str], int]] = field(default_factory=dict)
    closed: list[tuple[int, str, int, int]] = field(default_factory=list)
    created: dict[tuple[str, int, int], list[Any]] = field(default_factory=dict)
    current: dict[str, list[Any]] = field(default_factory=dict)
    writes: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    jobs: list[SignatureJob] | None = None
    places: list[Failure] = field(default_factory=list)
    retention: dict[str, str] = field(default_factory=dict)
    plans: dict[str, Plan] = field(default_factory=dict)
    due: list[Judging] = field(default_factory=list)

    def settle(self, pool: ProcessPoolExecutor) -> None:
        """Check the deferred signatures on every core; any failure aborts the whole batch."""
        assert self.jobs is not None
        starts = range(0, len(self.jobs), CHUNK)
        chunks = [self.jobs[i : i + CHUNK] for i in starts]
        bad = [
            self.places[start + index]
            for start, failing in zip(starts, pool.map(failing_jobs, chunks), strict=True)
            for index in failing
        ]
        if bad:
            raise IntegrityFailure(bad)

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.writes.setdefault(table, []).append(row)

    def head(self, stream: str) -> tuple[int, str]:
        if stream not in self.heads:
            row = self.tx.one("SELECT version, hash FROM {t}wl_heads WHERE stream = ?", (stream,))
            self.heads[stream] = (int(row[0]), str(row[1])) if row else (0, GENESIS_PREV)
        return self.heads[stream]

    def entry_facts(self, entry_id: str) -> list[Fact]:
        if entry_id not in self.facts:
            self.facts[entry_id] = [
                Fact(int(v), str(k), from_micros(int(e)), str(a), decode(self.app, str(d)))
                for v, k, e, a, d in self.tx.all(
                    "SELECT version, kind, effective_at, actor, data FROM {t}wl_entry_facts "
                    "WHERE entry_id = ? ORDER BY version",
                    (entry_id,),
                )
            ]
        return self.facts[entry_id]

    def entry_rows(self, entry_id: str) -> dict[tuple[int, int, str], int]:
        """The entry's open interval rows: (valid_from, valid_to, state) -> known_from."""
        if entry_id not in self.open_rows:
            self.open_rows[entry_id] = {
                (int(f), int(t), str(s)): int(k)
                for k, f, t, s in self.tx.all(
                    "SELECT known_from, valid_from, valid_to, state FROM {t}wl_entry_intervals "
                    "WHERE entry_id = ? AND known_to = ?",
                    (entry_id, OPEN),
                )
            }
        return self.open_rows[entry_id]

    def flush(self) -> None:
        """Write everything the batch produced."""
        statements = {
            "wl_heads": "INSERT INTO {t}wl_heads VALUES (?, ?, ?) "
            "ON CONFLICT (stream) DO UPDATE SET version = excluded.version, hash = excluded.hash",
            "wl_clock": "INSERT INTO {t}wl_clock VALUES (?, ?)",
            "wl_entry_facts": "INSERT INTO {t}wl_entry_facts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            "wl_policies": "INSERT INTO {t}wl_policies VALUES (?, ?, ?, ?)",
            "wl_officers": "INSERT INTO {t}wl_officers VALUES (?, ?)",
            "wl_revocations": "INSERT INTO {t}wl_revocations VALUES (?, ?, ?)",
            "wl_retention": "INSERT INTO {t}wl_retention VALUES (?, ?)",
        }
        self.writes["wl_heads"] = [(s, v, h) for s, (v, h) in self.heads.items()]
        for table, sql in statements.items():
            if self.writes.get(table):
                self.tx.many(sql, self.writes[table])
        if self.closed:
            self.tx.many(
                "UPDATE {t}wl_entry_intervals SET known_to = ? "
                "WHERE entry_id = ? AND known_from = ? AND valid_from = ?",
                self.closed,
            )
        if self.created:
            self.tx.many(
                "INSERT INTO {t}wl_entry_intervals VALUES (?, ?, ?, ?, ?, ?)",
                [(e, k, row[0], f, row[1], row[2]) for (e, k, f), row in self.created.items()],
            )
        if self.current:
            self.tx.many(
                "INSERT INTO {t}wl_entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0) "
                "ON CONFLICT (entry_id) DO UPDATE SET "
                "status = excluded.status, category = excluded.category, review_by = excluded.review_by, "
                "expires_at = excluded.expires_at, left_at = excluded.left_at, last_position = excluded.last_position, "
                "version = excluded.version, state = excluded.state",
                [(entry_id, *row) for entry_id, row in self.current.items()],
            )
        if self.writes.get("holds"):
            self.tx.many(
                "UPDATE {t}wl_entries SET holds = holds + ? WHERE entry_id = ?",
                self.writes["holds"],
            )
        if self.writes.get("erased"):
            self.tx.many(
                "UPDATE {t}wl_entries SET erased = 1 WHERE entry_id = ?", self.writes["erased"]
            )
        write_plans(self.tx, self.plans, self.due)  # last: it judges from the rows just written


def encode(app: WatchlistApp, data: dict[str, Any]) -> str:
    """A fact's data as JSON, keeping date-times (the library's transcoder tags them)."""
    return bytes(app.mapper.transcoder.encode(data)).decode("utf-8")


def decode(app: WatchlistApp, text: str) -> dict[str, Any]:
    """Inverse of ``encode``."""
    decoded: dict[str, Any] = app.mapper.transcoder.decode(text.encode("utf-8"))
    return decoded
