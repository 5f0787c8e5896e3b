"""Tampering with the database directly is caught, and reported where it happened.

Each test builds a real store (on SQLite and on PostgreSQL), edits the events table behind the
application's back, then checks that:
- ``verify_store`` on a freshly opened application reports exactly the expected failures, each with
  the right stream, version, store position and problem, in store order: the event's own problems
  and the Merkle log's (every direct edit also breaks the log, which is recomputed from the events);
- ``watchlist audit verify --json`` exits 3 with the same failures, one stderr line per failure and
  no traceback;
- reading the tampered entry through the application raises ``IntegrityFailure`` naming the position.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import psycopg
import pytest
from psycopg.sql import SQL, Identifier
from typer.testing import CliRunner  # noqa: TID251 - tests drive the CLI in-process

from commands.main import app as cli_app
from governance.application import WatchlistApp
from governance.domain.vocabulary import ReviewOutcome, SourceStatus
from governance.errors import Failure, IntegrityFailure
from governance.integrity import keys
from governance.integrity.envelope import EnvelopeCodec, state_hash
from governance.integrity.signing import Signer
from governance.ledger.log_audit import LOG
from governance.services import store_audit as audit
from governance.services.store_audit import verify_store
from governance.storage.recorders import Record
from governance.storage.settings import StoreSettings
from tests.conftest import World

CHAIN_BROKEN = "hash chain broken: the previous-event hash does not match the stream"
#: What the Merkle log check says of an event changed, added or removed behind the store's back.
LEAF_ALTERED = "event differs from the Merkle leaf recorded with it: it was altered"
LEAF_MISSING = "event has no leaf in the Merkle log: it was inserted behind the store's back"
LEAF_ORPHANED = "which holds no event: it was deleted"
TREE_MISMATCH = "the stored Merkle tree does not match the events"
#: Reading an entry verifies its events, not the log.
LOG_PROBLEMS = (LEAF_ALTERED, LEAF_MISSING, LEAF_ORPHANED, TREE_MISMATCH)
#: Founding record and the administrator's enrolment, plus five more enrolled officers.
OFFICER_EVENTS = 1 + 6

#: (stream or LOG, version, position, a phrase the problem must contain)
Expected = tuple[UUID | str, int | None, int | None, str]


class Database:
    """The store's events table, edited directly as an attacker with database access would."""

    def __init__(self, settings: StoreSettings, table: str) -> None:
        self.settings = settings
        self.table = table

    def execute(self, statement: str, *params: Any) -> int:
        """Run one statement (``{table}`` and ``%s`` placeholders); returns the rows affected."""
        if self.settings.database_url is None:
            values = [p.hex if isinstance(p, UUID) else p for p in params]
            sql = statement.format(table=self.table).replace("%s", "?")
            with closing(sqlite3.connect(self.settings.sqlite_path)) as conn, conn:
                return conn.execute(sql, values).rowcount
        url = urlsplit(self.settings.database_url)
        schema = parse_qs(url.query)["schema"][0]
        with psycopg.connect(url._replace(query="").geturl(), autocommit=True) as conn:
            query = SQL(statement).format(table=Identifier(schema, self.table))  # type: ignore[arg-type]
            return conn.execute(query, params).rowcount

    def replace_state(self, stream: UUID, version: int, state: bytes) -> None:
        updated = self.execute(
            "UPDATE {table} SET state = %s WHERE originator_id = %s AND originator_version = %s",
            state,
            stream,
            version,
        )
        assert updated == 1

    def move(self, stream: UUID, version: int, to_stream: UUID, to_version: int) -> None:
        updated = self.execute(
            "UPDATE {table} SET originator_id = %s, originator_version = %s "
            "WHERE originator_id = %s AND originator_version = %s",
            to_stream,
            to_version,
            stream,
            version,
        )
        assert updated == 1

    def delete(self, stream: UUID, version: int) -> None:
        deleted = self.execute(
            "DELETE FROM {table} WHERE originator_id = %s AND originator_version = %s",
            stream,
            version,
        )
        assert deleted == 1

    def insert(self, stream: UUID, version: int, topic: str, state: bytes) -> None:
        inserted = self.execute(
            "INSERT INTO {table} (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s)",
            stream,
            version,
            topic,
            state,
        )
        assert inserted == 1


@dataclass
class Scene:
    """A store with two entries: ``other`` (proposed only) and ``entry`` (five events)."""

    world: World
    other: UUID
    entry: UUID
    db: Database

    def records(self, stream: UUID) -> list[Record]:
        return self.world.app.store_recorder.select_records(stream)

    def position(self, stream: UUID, version: int) -> int:
        (record,) = [r for r in self.records(stream) if r.stored.originator_version == version]
        return record.position

    def forged_review(self, signer: Signer) -> None:
        """Append a well-formed, correctly chained Entry.Reviewed at the entry's next version,
        signed by ``signer``, straight into the table (never through the application).

        It is the genuine review (version 4) re-issued: same payload, new version, actor and
        rationale. The codec signs whatever ``vars(event)`` holds, so no domain command is needed.
        """
        app = self.world.app
        records = self.records(self.entry)
        (review,) = [r.stored for r in records if r.stored.topic == "watchlist:Entry.Reviewed"]
        last = records[-1].stored
        state = app.codec.event_state(app.codec.decode(review.state))
        state.update(
            originator_version=last.originator_version + 1,
            actor=signer.officer_id,
            rationale="Forged review.",
        )
        codec = EnvelopeCodec(app.mapper.transcoder)  # type: ignore[arg-type]
        forged = codec.encode(
            SimpleNamespace(**state),
            review.topic,
            app.verifier.founding.origin,
            state_hash(last.state),
            signer,
        )
        self.db.insert(self.entry, last.originator_version + 1, review.topic, forged)


@pytest.fixture
def scene(world: World) -> Scene:
    """Entry ``other`` is proposed first, so every stream's versions rise with store position."""
    other = world.proposed()
    entry = world.active()
    world.app.entries.verify_source(world.custodian, entry.id, SourceStatus.LIVE, None, "PNC")
    world.app.entries.review(
        world.reviewer, entry.id, ReviewOutcome.RETAIN, "Still wanted.", None, None
    )
    world.app.entries.verify_source(
        world.custodian, entry.id, SourceStatus.LIVE, None, "PNC, again"
    )
    # The library names the table: ``stored_events`` on SQLite, ``watchlist_events`` on PostgreSQL.
    table = world.app.recorder.events_table_name  # type: ignore[attr-defined]
    result = Scene(world, other.id, entry.id, Database(world.settings, table))
    assert [r.stored.originator_version for r in result.records(entry.id)] == [1, 2, 3, 4, 5]
    return result


@contextmanager
def reopened(world: World) -> Iterator[WatchlistApp]:
    app = world.reopen()
    try:
        yield app
    finally:
        app.close()


def place(stream: UUID | str, version: int | None, position: int | None) -> str:
    """How a failure names its place: "integrity failure at stream S version V position P: "."""
    return Failure(str(stream), version, position, "").describe()


def assert_failures(failures: list[Failure], expected: list[Expected]) -> None:
    """Exactly the expected failures, reported in store order (failures of the whole log, with no
    position, first), each at the right place with the right problem."""
    positions = [f.position or 0 for f in failures]
    assert positions == sorted(positions), failures
    assert_matched([f.describe() for f in failures], expected)


def assert_matched(lines: list[str], expected: list[Expected]) -> None:
    """Each line names one expected place and problem, and each expected failure has its line."""
    assert len(lines) == len(expected), lines
    unmatched = list(lines)
    for stream, version, position, phrase in expected:
        where = place(stream, version, position)
        found = [line for line in unmatched if where in line and phrase in line]
        assert found, f"no failure '{where}...{phrase}' in {unmatched}"
        unmatched.remove(found[0])


def run_audit_cli(settings: StoreSettings) -> Any:
    env = {"WATCHLIST_DATABASE_URL": settings.database_url, "WATCHLIST_HOME": None}
    result = CliRunner(env=env).invoke(
        cli_app, ["--home", str(settings.home), "audit", "verify", "--json"]
    )
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def assert_reported(scene: Scene, expected: list[Expected], events: int) -> None:
    """The audit, the CLI and verified reads all report ``expected`` (and nothing else)."""
    world = scene.world
    with reopened(world) as fresh:
        report = verify_store(fresh)
    assert not report.ok
    assert report.events == events
    assert_failures(report.failures, expected)

    result = run_audit_cli(world.settings)
    assert result.exit_code == 3, result.stderr
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["events"] == events
    assert document["failures"] == [asdict(f) for f in report.failures]
    assert "Traceback" not in result.stderr
    assert_matched(result.stderr.splitlines(), expected)

    with reopened(world) as fresh:
        for stream in dict.fromkeys(s for s, _, _, _ in expected if isinstance(s, UUID)):
            in_stream = [e for e in expected if e[0] == stream and e[3] not in LOG_PROBLEMS]
            with pytest.raises(IntegrityFailure) as raised:
                fresh.entries.get(stream)
            assert_failures(raised.value.failures, in_stream)
            for _, _, position, _ in in_stream:
                assert f"position {position}" in raised.value.message


class TestTamperingIsReportedWhereItHappened:
    def test_the_untampered_store_verifies_clean(self, scene: Scene) -> None:
        with reopened(scene.world) as fresh:
            report = verify_store(fresh)
            assert report.ok, report.failures
            assert report.events == OFFICER_EVENTS + 1 + 5
            assert fresh.entries.get(scene.entry).id == scene.entry
        result = run_audit_cli(scene.world.settings)
        assert result.exit_code == 0, result.stderr
        document = json.loads(result.stdout)
        assert (document["ok"], document["events"], document["failures"]) == (True, 13, [])
        assert document["tree_size"] == 13

    def test_a_flipped_byte_in_a_payload_fails_the_signature_and_breaks_the_next_link(
        self, scene: Scene
    ) -> None:
        (authorised,) = [r for r in scene.records(scene.entry) if r.stored.originator_version == 2]
        state = authorised.stored.state
        assert state.count(b"Necessary and proportionate.") == 1
        at = state.index(b"Necessary")
        flipped = state[:at] + bytes([state[at] ^ 0x20]) + state[at + 1 :]  # 'N' -> 'n'
        assert json.loads(flipped)["statement"] != json.loads(state)["statement"]
        scene.db.replace_state(scene.entry, 2, flipped)

        assert_reported(
            scene,
            [
                (LOG, None, None, TREE_MISMATCH),
                (scene.entry, 2, authorised.position, "signature does not verify"),
                (scene.entry, 2, authorised.position, LEAF_ALTERED),
                (scene.entry, 3, scene.position(scene.entry, 3), CHAIN_BROKEN),
            ],
            events=13,
        )

    def test_an_event_moved_to_another_stream_is_reported_in_both_streams(
        self, scene: Scene
    ) -> None:
        moved_at = scene.position(scene.entry, 2)
        next_at = scene.position(scene.entry, 3)
        scene.db.move(scene.entry, 2, scene.other, 2)

        assert_reported(
            scene,
            [
                (LOG, None, None, TREE_MISMATCH),
                (scene.other, 2, moved_at, "moved between streams"),
                (scene.other, 2, moved_at, CHAIN_BROKEN),
                (scene.other, 2, moved_at, LEAF_ALTERED),
                (scene.entry, 3, next_at, "version 2 is missing from the stream (found 3 next)"),
                (scene.entry, 3, next_at, CHAIN_BROKEN),
            ],
            events=13,
        )

    def test_an_event_renumbered_to_another_version_is_reported_at_its_new_version(
        self, scene: Scene
    ) -> None:
        position = scene.position(scene.entry, 5)
        scene.db.move(scene.entry, 5, scene.entry, 6)

        assert_reported(
            scene,
            [
                (LOG, None, None, TREE_MISMATCH),
                (scene.entry, 6, position, "version 5 is missing from the stream (found 6 next)"),
                (scene.entry, 6, position, LEAF_ALTERED),
                (
                    scene.entry,
                    6,
                    position,
                    "statement says version 5 but the event is stored as version 6",
                ),
            ],
            events=13,
        )

    def test_an_event_signed_by_a_key_never_registered_to_its_officer_is_rejected(
        self, scene: Scene
    ) -> None:
        impostor = Signer(scene.world.reviewer.officer_id, keys.generate())
        assert impostor.key_id != scene.world.reviewer.key_id
        scene.forged_review(impostor)
        position = scene.position(scene.entry, 6)

        assert_reported(
            scene,
            [
                (
                    scene.entry,
                    6,
                    position,
                    f"signed by key {impostor.key_id}, which is not registered to officer "
                    f"{impostor.officer_id}",
                ),
                (scene.entry, 6, position, LEAF_MISSING),
            ],
            events=14,
        )

    def test_an_event_signed_with_an_officers_key_after_their_revocation_is_rejected(
        self, scene: Scene
    ) -> None:
        world = scene.world
        world.app.officers.revoke(world.admin, world.reviewer.officer_id, "Left the force")
        revoked_at = world.app.position()
        scene.forged_review(world.reviewer)
        position = scene.position(scene.entry, 6)
        assert position > revoked_at

        # The reviewer's genuine review (version 4, before the revocation) still verifies.
        assert_reported(
            scene,
            [
                (
                    scene.entry,
                    6,
                    position,
                    f"signed with the key of officer {world.reviewer.officer_id} after it was revoked",
                ),
                (scene.entry, 6, position, LEAF_MISSING),
            ],
            events=15,
        )

    def test_the_parallel_audit_reports_the_same_failures_as_the_serial_one(
        self, scene: Scene, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A bad signature (checked in the worker pool) and a bad key (judged before any signature
        # check) in one store; the pool normally starts only above PARALLEL_THRESHOLD events.
        impostor = Signer(scene.world.reviewer.officer_id, keys.generate())
        scene.forged_review(impostor)
        authorised = scene.position(scene.entry, 2)
        (record,) = [r for r in scene.records(scene.entry) if r.stored.originator_version == 2]
        state = record.stored.state
        at = state.index(b"Necessary")
        scene.db.replace_state(scene.entry, 2, state[:at] + b"n" + state[at + 1 :])
        forged = scene.position(scene.entry, 6)
        expected: list[Expected] = [
            (scene.entry, 2, authorised, "signature does not verify"),
            (scene.entry, 2, authorised, LEAF_ALTERED),
            (scene.entry, 3, scene.position(scene.entry, 3), CHAIN_BROKEN),
            (scene.entry, 6, forged, "not registered"),
            (scene.entry, 6, forged, LEAF_MISSING),
        ]
        with reopened(scene.world) as fresh:
            serial = verify_store(fresh, workers=1)
        monkeypatch.setattr(audit, "PARALLEL_THRESHOLD", 0)
        monkeypatch.setattr(audit, "CHUNK", 4)  # workers read several ranges of positions
        with reopened(scene.world) as fresh:
            parallel = verify_store(fresh, workers=2)
        assert_failures(serial.failures, expected)
        assert parallel.failures == serial.failures
        assert parallel.events == serial.events == 14

    def test_a_deleted_middle_event_is_reported_as_a_gap_at_the_next_version(
        self, scene: Scene
    ) -> None:
        deleted_at = scene.position(scene.entry, 3)
        next_at = scene.position(scene.entry, 4)
        scene.db.delete(scene.entry, 3)

        assert_reported(
            scene,
            [
                (LOG, None, deleted_at, LEAF_ORPHANED),
                (scene.entry, 4, next_at, "version 3 is missing from the stream (found 4 next)"),
                (scene.entry, 4, next_at, CHAIN_BROKEN),
            ],
            events=12,
        )
