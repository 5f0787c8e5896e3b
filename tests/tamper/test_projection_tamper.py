"""Editing only the projection tables never changes an answer (issue 13, section 1).

The projection is an index to events, never the evidence. Each test edits projection rows (or the
tail of the log) behind the application's back, as an insider with database access would, and
checks that the answers judged from the verified events do not move: a projection row that
disagrees with the events is an integrity failure naming the table and the row (exit 3).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import psycopg
import pytest
from typer.testing import CliRunner  # noqa: TID251 - tests drive the CLI in-process

from commands.main import app as cli_app
from governance import clock
from governance.application import WatchlistApp
from governance.domain.deployment import UseCase
from governance.domain.policy import PolicyDocument
from governance.domain.vocabulary import Category, Rank, SourceStatus
from governance.errors import IntegrityFailure
from governance.services.compiling import compile_watchlist
from governance.services.inclusion import KnownAt, answer_inclusion
from governance.services.reconstruction import checked_reconstruction as reconstruct
from governance.services.store_audit import audit_record
from governance.storage.settings import StoreSettings
from projections.runner import catch_up
from tests.conftest import World


def sql(settings: StoreSettings, statement: str, *params: Any) -> int:
    """Run one statement on the store's database; ``{t}`` is the projection tables' prefix."""
    if settings.database_url is None:
        with closing(sqlite3.connect(settings.sqlite_path)) as conn, conn:
            return conn.execute(statement.format(t=""), params).rowcount
    url = urlsplit(settings.database_url)
    schema = parse_qs(url.query)["schema"][0]
    with psycopg.connect(url._replace(query="").geturl(), autocommit=True) as conn:
        text = statement.format(t=f'"{schema}".').replace("?", "%s")
        return conn.execute(text, params).rowcount  # type: ignore[call-overload,no-any-return]


def cli(settings: StoreSettings, *args: str) -> Any:
    env = {"WATCHLIST_DATABASE_URL": settings.database_url, "WATCHLIST_HOME": None}
    result = CliRunner(env=env).invoke(cli_app, ["--home", str(settings.home), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@contextmanager
def reopened(world: World) -> Iterator[WatchlistApp]:
    app = world.reopen()
    try:
        yield app
    finally:
        app.close()


def deployed(world: World, frozen: clock.FrozenClock, ids: list[UUID]) -> UUID:
    for entry_id in ids:
        world.app.entries.verify_source(world.custodian, entry_id, SourceStatus.LIVE, None, "PNC")
    start = clock.now() + timedelta(hours=1)
    deployment = world.app.deployments.authorise(
        world.authoriser, "Station", "Sought people travel through it", "Locate wanted people",
        UseCase.HOTSPOT, [Category.WANTED_ON_WARRANT], start, start + timedelta(hours=6),
    )  # fmt: skip
    world.app.deployments.compile(world.custodian, deployment.id, ids)
    frozen.advance(timedelta(hours=1))
    world.app.deployments.start(world.authoriser, deployment.id)
    return UUID(str(deployment.id))


def named(error: IntegrityFailure, table: str, row: str) -> None:
    assert table in error.message, error.message
    assert row in error.message, error.message


class TestProjectionIsNeverTheEvidence:
    def test_copied_interval_and_fact_rows_do_not_list_a_never_authorised_entry(
        self, world: World
    ) -> None:
        never = world.proposed().id
        authorised = world.active().id
        catch_up(world.app)
        for table, columns in (
            ("wl_entry_intervals", "known_from, known_to, valid_from, valid_to, state"),
            ("wl_entry_facts", "version, position, kind, effective_at, recorded_at, actor, data"),
        ):
            sql(world.settings, f"DELETE FROM {{t}}{table} WHERE entry_id = ?", str(never))
            sql(
                world.settings,
                f"INSERT INTO {{t}}{table} SELECT ?, {columns} FROM {{t}}{table} WHERE entry_id = ?",
                str(never),
                str(authorised),
            )
        with reopened(world) as fresh, pytest.raises(IntegrityFailure) as raised:
            answer_inclusion(fresh, never, clock.now(), KnownAt())
        named(raised.value, "wl_entry_", str(never))
        result = cli(world.settings, "inclusion", str(never), "--at", clock.now().isoformat())
        assert result.exit_code == 3, result.stdout + result.stderr
        assert "wl_entry_" in result.stderr
        with reopened(world) as fresh:
            report = audit_record(fresh)
        assert not report.ok
        assert any(str(never) in f.describe() and "wl_entry_" in f.problem for f in report.failures)

    def test_a_lowered_rank_in_wl_policies_does_not_flip_inclusion(
        self, world: World, frozen: clock.FrozenClock
    ) -> None:
        entry = world.active().id
        stricter = PolicyDocument(min_authoriser_rank=Rank.COMMANDER)
        world.app.policies.publish(world.admin, stricter, None)
        frozen.advance(timedelta(minutes=5))
        _, before = answer_inclusion(world.app, entry, clock.now(), KnownAt())
        assert not before.assessment.justified
        assert "authoriser_rank_too_low" in before.assessment.reasons
        row = sql(
            world.settings,
            "UPDATE {t}wl_policies SET document = REPLACE(document, 'commander', 'constable')",
        )
        assert row == 1
        with reopened(world) as fresh, pytest.raises(IntegrityFailure) as raised:
            answer_inclusion(fresh, entry, clock.now(), KnownAt())
        named(raised.value, "wl_policies", "version 1")
        result = cli(world.settings, "inclusion", str(entry), "--at", clock.now().isoformat())
        assert result.exit_code == 3, result.stdout + result.stderr
        with reopened(world) as fresh:
            assert any("wl_policies" in f.problem for f in audit_record(fresh).failures)

    def test_a_changed_status_does_not_hide_an_entry_from_compile(
        self, world: World, frozen: clock.FrozenClock
    ) -> None:
        entry = world.active().id
        world.app.entries.verify_source(world.custodian, entry, SourceStatus.LIVE, None, "PNC")
        catch_up(world.app)
        sql(
            world.settings,
            "UPDATE {t}wl_entries SET status = 'removed', left_at = 0 WHERE entry_id = ?",
            str(entry),
        )
        start = clock.now() + timedelta(hours=1)
        with reopened(world) as fresh:
            deployment = fresh.deployments.authorise(
                world.authoriser, "Station", "Sought people travel through it", "Locate",
                UseCase.HOTSPOT, [Category.WANTED_ON_WARRANT], start, start + timedelta(hours=6),
            )  # fmt: skip
            compiled = compile_watchlist(fresh, world.custodian, deployment.id).compilation
            assert compiled is not None
            assert [m["entry_id"] for m in compiled["manifest"]] == [str(entry)]
            assert any(str(entry) in f.describe() for f in audit_record(fresh).failures)

    def test_edited_evidence_in_wl_then_views_is_an_integrity_failure(
        self, world: World, frozen: clock.FrozenClock
    ) -> None:
        entry = world.active().id
        deployment = deployed(world, frozen, [entry])
        catch_up(world.app)
        changed = sql(
            world.settings,
            "UPDATE {t}wl_then_views SET views = REPLACE(views, ?, ?) WHERE deployment_id = ?",
            world.authoriser.officer_id,
            world.inspector.officer_id,
            str(deployment),
        )
        assert changed >= 1
        with reopened(world) as fresh, pytest.raises(IntegrityFailure) as raised:
            reconstruct(fresh, deployment)
        named(raised.value, "wl_then_views", str(deployment))
        with reopened(world) as fresh:
            assert any("wl_then_views" in f.problem for f in audit_record(fresh).failures)

    def test_reconstruct_refuses_cited_events_whose_signatures_fail(
        self, world: World, frozen: clock.FrozenClock
    ) -> None:
        entry = world.active().id
        deployment = deployed(world, frozen, [entry])
        catch_up(world.app)
        table = world.app.recorder.events_table_name  # type: ignore[attr-defined]
        record = world.app.store_recorder.select_records(entry)[1]  # the authorisation
        state = record.stored.state.replace(b"Necessary", b"Necessarz")
        assert state != record.stored.state
        text = (
            f"UPDATE {{t}}{table} SET state = ? WHERE originator_id = ? AND originator_version = 2"
        )
        key: Any = entry.hex if world.settings.database_url is None else entry
        assert sql(world.settings, text, state, key) == 1
        with reopened(world) as fresh, pytest.raises(IntegrityFailure) as raised:
            reconstruct(fresh, deployment)
        assert f"position {record.position}" in raised.value.message


class TestTheLogTailRemoved:
    def test_a_shorter_log_is_refused(self, sqlite_world: World) -> None:
        world = sqlite_world
        kept = world.active().id
        removed = world.active().id
        catch_up(world.app)
        positions = [r.position for r in world.app.store_recorder.select_records(removed)]
        with closing(sqlite3.connect(world.settings.sqlite_path)) as conn, conn:
            conn.execute("DELETE FROM stored_events WHERE rowid >= ?", (min(positions),))
        with reopened(world) as fresh:
            with pytest.raises(IntegrityFailure) as raised:
                answer_inclusion(fresh, kept, clock.now(), KnownAt())
            assert "the tail of the log was removed" in raised.value.message
            assert any("tail of the log" in f.problem for f in audit_record(fresh).failures)
        result = cli(world.settings, "inclusion", str(kept), "--at", clock.now().isoformat())
        assert result.exit_code == 3, result.stdout + result.stderr
        assert "tail of the log" in result.stderr

    def test_a_tail_removed_and_refilled_is_noticed(self, sqlite_world: World) -> None:
        """New events at the positions the projection already passed are never skipped silently:
        the projection notices that the event at the last position it projected has changed."""
        world = sqlite_world
        kept = world.active().id
        world.proposed()
        catch_up(world.app)
        last = world.app.position()
        with closing(sqlite3.connect(world.settings.sqlite_path)) as conn, conn:
            (state,) = conn.execute(
                "SELECT state FROM stored_events WHERE rowid = ?", (last - 1,)
            ).fetchone()
            conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (state, last))
        with reopened(world) as fresh, pytest.raises(IntegrityFailure) as raised:
            answer_inclusion(fresh, kept, clock.now(), KnownAt())
        assert "the last it projected, has changed" in raised.value.message
