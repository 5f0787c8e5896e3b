"""The entry lifecycle on a real SQLite file and a real PostgreSQL schema."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from commands.documents import entry_view, officer_view
from governance import clock
from governance.domain.policy import DEFAULT
from governance.domain.vocabulary import RemovalReason, ReviewOutcome, SourceStatus, Status
from governance.errors import Conflict, NotFound, PermissionDenied
from governance.services.store_audit import verify_store
from governance.storage.sqlite_pool import PAGE_CACHE_KIB, StatementCachingPool
from tests.conftest import World


class TestLifecycle:
    def test_a_full_lifecycle_survives_closing_and_reopening_the_store(self, world: World) -> None:
        entry = world.active()
        world.app.entries.verify_source(world.custodian, entry.id, SourceStatus.LIVE, None, "PNC")
        world.app.entries.review(
            world.reviewer, entry.id, ReviewOutcome.RETAIN, "Still wanted.", None, None
        )
        world.app.entries.remove(world.custodian, entry.id, RemovalReason.CASE_CLOSED, None, "NFA")
        before = entry_view(world.app.entries.get(entry.id), clock.now())
        officers_before = [officer_view(o) for o in world.app.officers.all()]
        world.app.close()

        reopened = world.reopen()
        assert entry_view(reopened.entries.get(entry.id), clock.now()) == before
        assert [officer_view(o) for o in reopened.officers.all()] == officers_before
        assert before["status"] == "removed"
        assert before["removal_reason"] == "case_closed"
        report = verify_store(reopened)
        assert report.ok, report.failures
        assert report.events == 1 + 6 + 5
        reopened.close()

    def test_the_subject_is_revealed_only_with_its_key_and_the_reveal_is_recorded(
        self, world: World
    ) -> None:
        entry = world.proposed()
        before = world.app.position()
        subject = world.app.entries.reveal(world.legal, entry.id, "Disclosure request 42")
        assert subject == {
            "name": "Jane Example",
            "date_of_birth": "1990-04-01",
            "subject_ref": "NOMINAL-000123",
            "image_ref": None,
        }
        assert world.app.position() == before + 1

    def test_the_stored_events_hold_no_plaintext_personal_data(self, world: World) -> None:
        entry = world.proposed()
        records = world.app.store_recorder.select_records(entry.id)
        state = records[0].stored.state
        for secret in (b"Jane Example", b"NOMINAL-000123", b"1990-04-01"):
            assert secret not in state


class TestRefusalsWriteNothing:
    def test_authorising_an_unknown_entry_is_not_found(self, world: World) -> None:
        before = world.app.position()
        with pytest.raises(NotFound, match="entry"):
            world.app.entries.authorise(world.authoriser, uuid4(), "Necessary and proportionate.")
        assert world.app.position() == before

    def test_a_stale_update_is_a_conflict_not_a_lost_update(self, world: World) -> None:
        entry = world.active()
        other = world.reopen()
        first = world.app.entries.get(entry.id)
        second = other.entries.get(entry.id)
        first.review(
            world.reviewer.officer_id,
            ReviewOutcome.RETAIN,
            "Keep.",
            None,
            None,
            clock.now(),
            DEFAULT,
        )
        world.app.record(first, signer=world.reviewer)
        second.remove(
            world.custodian.officer_id, RemovalReason.CASE_CLOSED, clock.now(), None, None, None
        )
        with pytest.raises(Conflict, match="changed"):
            other.record(second, signer=world.custodian)
        assert world.app.entries.get(entry.id).status is Status.ACTIVE
        other.close()

    def test_a_revoked_officer_can_no_longer_act(
        self, world: World, frozen: clock.FrozenClock
    ) -> None:
        world.app.officers.revoke(world.admin, world.custodian.officer_id, "Left the force")
        frozen.advance(timedelta(minutes=1))
        with pytest.raises(PermissionDenied, match="revoked"):
            world.proposed()
        assert verify_store(world.app).ok


class TestLookupsByType:
    def test_events_are_found_by_type_through_an_index(self, world: World) -> None:
        """Policy, officer and disclosure lookups do not scan the whole store."""
        recorder = world.app.recorder
        table = recorder.events_table_name  # type: ignore[attr-defined]
        if world.settings.database_url is None:
            with recorder.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
                c.execute(
                    f"EXPLAIN QUERY PLAN SELECT rowid, * FROM {table} WHERE rowid>=? "
                    "AND topic IN (?) ORDER BY rowid LIMIT 500",
                    (1, "watchlist:PolicyVersion.Published"),
                )
                plan = " ".join(str(tuple(row)) for row in c.fetchall())
            assert f"USING INDEX {table}_topic" in plan
        else:
            with recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
                row = conn.execute(
                    "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = %s",
                    (recorder.datastore.schema, f"{table}_topic"),  # type: ignore[attr-defined]
                ).fetchone()
            assert row is not None
            assert "(topic, notification_id)" in row["indexdef"]

    def test_a_policy_published_by_another_client_is_seen_by_an_open_one(
        self, world: World
    ) -> None:
        assert world.app.policies.at(clock.now()).version == 0  # read, and remembered
        other = world.reopen()
        other.policies.publish(world.admin, DEFAULT, None)
        other.close()
        in_force = world.app.policies.at(clock.now())
        assert in_force.version == 1
        assert [
            v.version for v in world.app.policies.versions(known_at=in_force.position - 1)
        ] == []


class TestSQLiteConnections:
    def test_the_store_keeps_compiled_statements_and_pages_on_wal_connections(
        self, world: World
    ) -> None:
        """The library's connections cache one statement; the store's keep many (``sqlite_pool``)."""
        if world.settings.database_url is not None:
            pytest.skip("SQLite connections only")
        datastore = world.app.recorder.datastore  # type: ignore[attr-defined]
        assert isinstance(datastore.pool, StatementCachingPool)
        with datastore.transaction(commit=False) as c:
            c.execute("PRAGMA journal_mode")
            journal = c.fetchone()["journal_mode"]
            c.execute("PRAGMA cache_size")
            cache = c.fetchone()["cache_size"]
        assert (journal, cache) == ("wal", -PAGE_CACHE_KIB)
