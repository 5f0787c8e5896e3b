"""A command's checks rest on the officer and policy records it read; its write proves them current.

A process reads officer and policy records once and then only what was stored since. A write is
refused under the store's write lock, writing nothing, if such a record arrived after the position
its checks relied on; the command then runs again on the new records. Events this process wrote or
verified are not verified twice, unless their stored bytes, place or chain changed.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from governance import clock
from governance.domain.permissions import Action
from governance.domain.policy import DEFAULT
from governance.domain.vocabulary import Rank, Role, SourceStatus
from governance.errors import IntegrityFailure, PermissionDenied, StaleRecords
from governance.integrity import keys
from tests.conftest import World


def count_verifications(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = keys.verify

    def counting(*args: Any) -> bool:
        calls[0] += 1
        return real(*args)

    monkeypatch.setattr(keys, "verify", counting)
    return calls


class TestStaleOfficerRecords:
    def test_an_officer_revoked_by_another_client_meanwhile_is_refused_and_nothing_is_written(
        self, world: World
    ) -> None:
        world.proposed()  # this client has read the officers, with PC-1001 in good standing
        other = world.reopen()
        other.officers.revoke(world.admin, world.custodian.officer_id, "Left the force")
        other.close()
        before = world.app.position()
        with pytest.raises(PermissionDenied, match="PC-1001 has been revoked"):
            world.proposed()
        assert world.app.position() == before

    def test_a_policy_published_by_another_client_meanwhile_is_applied_on_the_retry(
        self, world: World
    ) -> None:
        entry = world.proposed()
        other = world.reopen()
        stricter = DEFAULT.model_copy(update={"min_authoriser_rank": Rank.CHIEF_SUPERINTENDENT})
        other.policies.publish(world.admin, stricter, None)
        other.close()
        before = world.app.position()
        with pytest.raises(PermissionDenied, match="chief_superintendent"):
            world.app.entries.authorise(world.authoriser, entry.id, "Necessary and proportionate.")
        assert world.app.position() == before

    def test_a_write_relying_on_an_old_view_of_the_officers_writes_nothing(
        self, world: World
    ) -> None:
        entry = world.active()
        world.app.authenticate(world.custodian, Action.VERIFY_SOURCE)  # the view the write rests on
        other = world.reopen()
        other.officers.change_rank(
            world.admin, world.reviewer.officer_id, Rank.CHIEF_INSPECTOR, "Promoted"
        )
        other.close()
        loaded = world.app.entries.get(entry.id)
        loaded.verify_source(world.custodian.officer_id, SourceStatus.LIVE, clock.now(), None)
        before = world.app.position()
        with pytest.raises(StaleRecords, match="officer or policy records changed"):
            world.app.record(loaded, signer=world.custodian)
        assert world.app.position() == before
        assert world.app.verifier.feed.known == before  # and the change has been read since


def edit_database(world: World, *statements: tuple[str, tuple[Any, ...]]) -> None:
    """Change the SQLite file directly, as someone with access to it could."""
    with sqlite3.connect(world.settings.sqlite_path) as db:
        for sql, params in statements:
            db.execute(sql, params)


class TestVerifiedOnce:
    def test_reading_back_what_this_process_wrote_needs_no_second_signature_check(
        self, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        entry = world.active()
        calls = count_verifications(monkeypatch)
        assert world.app.entries.get(entry.id).version == entry.version
        assert calls[0] == 0
        assert (
            world.reopen().entries.get(entry.id).version == entry.version
        )  # a new process checks all
        assert calls[0] >= entry.version

    def test_bytes_changed_in_the_database_are_checked_in_full_and_caught(
        self, sqlite_world: World
    ) -> None:
        world = sqlite_world
        entry = world.active()
        with sqlite3.connect(world.settings.sqlite_path) as db:
            (state,) = db.execute(
                "SELECT state FROM stored_events WHERE originator_id = ? AND originator_version = 2",
                (entry.id.hex,),
            ).fetchone()
        edit_database(world, (
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = 2",
            (state.replace(b"Necessary", b"Needless!"), entry.id.hex),
        ))  # fmt: skip
        with pytest.raises(IntegrityFailure, match="signature does not verify"):
            world.app.entries.get(entry.id)

    def test_an_event_moved_to_another_version_is_caught_though_its_bytes_were_verified(
        self, sqlite_world: World
    ) -> None:
        world = sqlite_world
        entry = world.active()
        edit_database(
            world,
            ("DELETE FROM stored_events WHERE originator_id = ? AND originator_version = 2", (entry.id.hex,)),
            ("UPDATE stored_events SET originator_version = 2 WHERE originator_id = ? AND originator_version = 1", (entry.id.hex,)),
        )  # fmt: skip
        with pytest.raises(IntegrityFailure, match="version"):
            world.app.entries.get(entry.id)

    def test_a_role_lost_meanwhile_is_caught_when_a_command_authenticates_twice(
        self, world: World
    ) -> None:
        # Placing the first hold authenticates for the hold, reads the entry (which reads the
        # officer records stored since), then authenticates again to open the retention record:
        # the write must rest on the older of the two readings.
        app, legal = world.app, world.legal.officer_id
        app.officers.change_roles(
            world.admin, legal, frozenset({Role.LEGAL, Role.SCHEDULER}), "Cover"
        )
        entry = world.active()
        app.officer(legal)
        other = world.reopen()
        other.officers.change_roles(
            world.admin, legal, frozenset({Role.SCHEDULER}), "No longer legal"
        )
        other.entries.verify_source(world.custodian, entry.id, SourceStatus.LIVE, None, "PNC")
        other.close()
        before = app.position()
        with pytest.raises(PermissionDenied, match="place or release a legal hold"):
            app.retention.place_hold(world.legal, entry.id, "CASE-1", "Litigation")
        assert app.position() == before
        assert world.reopen().retention.get(entry.id) is None

    def test_a_read_only_action_reads_the_officer_records_stored_since(self, world: World) -> None:
        world.app.authenticate(world.legal, Action.READ_ACCESS_LOG)
        other = world.reopen()
        other.officers.revoke(world.admin, world.legal.officer_id, "Left the force")
        other.close()
        with pytest.raises(PermissionDenied, match="has been revoked"):
            world.app.authenticate(world.legal, Action.READ_ACCESS_LOG, fresh=True)
