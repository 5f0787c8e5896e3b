"""The bitemporal projection: exactly-once, resumable, rebuildable, and bounded by R."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from governance import clock
from governance.domain.deployment import UseCase
from governance.domain.vocabulary import Category, RemovalReason, SourceStatus
from governance.errors import IntegrityFailure
from projections import runner
from projections.deployments import judge_then, stored_then
from projections.judging import learned_about
from projections.queries import inclusion
from projections.reconstruction import reconstruct
from projections.runner import catch_up, projection_store, rebuild
from projections.storage import PROJECTION_TABLES
from tests.conftest import World


def rows(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection row, sorted, for equality checks."""
    with projection_store(world.app).reading() as tx:
        return {t: sorted(tx.all(f"SELECT * FROM {{t}}{t}"), key=repr) for t in PROJECTION_TABLES}


def history(world: World, frozen: clock.FrozenClock) -> list[Any]:
    entries = [world.active() for _ in range(3)]
    for entry in entries:
        world.app.entries.verify_source(world.custodian, entry.id, SourceStatus.LIVE, None, None)
    deploy(world, frozen, [e.id for e in entries])
    frozen.advance(timedelta(days=2))
    world.app.entries.remove(
        world.custodian,
        entries[0].id,
        RemovalReason.CASE_CLOSED,
        clock.now() - timedelta(days=1),
        None,
    )
    world.app.entries.correct(
        world.custodian,
        entries[0].id,
        4,
        clock.now() - timedelta(hours=30),
        {},
        "Date was wrong",
        "REF-1",
    )
    world.app.entries.retract(world.authoriser, entries[1].id, 2, "Authorised in error")
    world.app.officers.revoke(world.admin, world.inspector.officer_id, "Left the force")
    return entries


def deploy(world: World, frozen: clock.FrozenClock, ids: list[Any]) -> Any:
    """Authorise and compile a deployment over ``ids``, then start it later than planned."""
    start = clock.now() + timedelta(hours=1)
    deployment = world.app.deployments.authorise(
        world.authoriser, "Station", "Sought people travel through it", "Locate wanted people",
        UseCase.HOTSPOT, [Category.WANTED_ON_WARRANT], start, start + timedelta(hours=6),
    )  # fmt: skip
    world.app.deployments.compile(world.custodian, deployment.id, ids)
    frozen.advance(timedelta(hours=2))
    return world.app.deployments.start(world.authoriser, deployment.id)


class TestCatchingUp:
    def test_a_rebuild_from_scratch_gives_identical_rows(
        self, world: World, frozen: clock.FrozenClock
    ) -> None:
        history(world, frozen)
        catch_up(world.app)
        incremental = rows(world)
        assert rebuild(world.app) == world.app.position()
        assert rows(world) == incremental
        assert len(incremental["wl_entry_facts"]) == 3 * 3 + 3
        # The deployment's watchlist judged as known then: at the planned start, then at go-live.
        assert len(incremental["wl_then_views"]) == 2

    def test_catching_up_in_small_steps_gives_the_same_rows_as_in_one(
        self, world: World, frozen: clock.FrozenClock
    ) -> None:
        history(world, frozen)
        while catch_up(world.app, limit=3):
            pass
        stepwise = rows(world)
        rebuild(world.app)
        assert rows(world) == stepwise

    def test_a_crash_in_the_middle_of_catching_up_resumes_without_duplicates(
        self, world: World, frozen: clock.FrozenClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        history(world, frozen)
        real = runner.project
        calls = {"n": 0}

        def crashing(batch: Any, note: Any) -> None:
            calls["n"] += 1
            if calls["n"] == 9:
                raise RuntimeError("power cut")
            real(batch, note)

        monkeypatch.setattr(runner, "project", crashing)
        with pytest.raises(RuntimeError, match="power cut"):
            catch_up(world.app)
        assert projection_store(world.app).position() == 0  # the whole batch rolled back
        monkeypatch.setattr(runner, "project", real)
        catch_up(world.app)
        resumed = rows(world)
        rebuild(world.app)
        assert rows(world) == resumed

    def test_a_query_catches_the_projection_up_first(self, world: World) -> None:
        entry = world.active()
        on, view = inclusion(world.app, entry.id, clock.now(), None)
        assert on.known_at == world.app.position()
        assert view.assessment.listed


class TestKnowledgePosition:
    def test_the_event_at_the_basis_position_is_visible_and_the_next_one_is_not(
        self, world: World
    ) -> None:
        entry = world.proposed()
        authorised = world.app.entries.authorise(
            world.authoriser, entry.id, "Necessary and proportionate."
        )
        at = clock.now()
        position = world.app.position()
        assert inclusion(world.app, authorised.id, at, position)[1].assessment.listed
        assert not inclusion(world.app, authorised.id, at, position - 1)[1].assessment.listed
        assert (
            inclusion(world.app, authorised.id, at, position - 1)[1].assessment.reasons[0]
            == "not_authorised"
        )

    def test_what_was_known_then_never_changes_when_later_events_arrive(
        self, world: World, frozen: clock.FrozenClock
    ) -> None:
        entries = history(world, frozen)
        basis = world.app.position()
        at = clock.now() - timedelta(days=1, hours=12)
        before = [inclusion(world.app, e.id, at, basis)[1] for e in entries]
        world.app.entries.remove(
            world.custodian,
            entries[2].id,
            RemovalReason.DECEASED,
            clock.now() - timedelta(days=2),
            None,
            "x",
            "y",
        )
        after = [inclusion(world.app, e.id, at, basis)[1] for e in entries]
        assert [v.assessment for v in after] == [v.assessment for v in before]
        assert not inclusion(world.app, entries[2].id, at, None)[1].assessment.listed


class TestParallelVerification:
    def test_signatures_checked_on_every_core_give_the_same_rows(
        self, sqlite_world: World, frozen: clock.FrozenClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        history(sqlite_world, frozen)
        catch_up(sqlite_world.app)
        serial = rows(sqlite_world)
        monkeypatch.setattr(runner, "PARALLEL_THRESHOLD", 1)
        rebuild(sqlite_world.app)
        assert rows(sqlite_world) == serial

    def test_a_forged_signature_stops_the_projection_and_commits_nothing(
        self, sqlite_world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import sqlite3

        entry = sqlite_world.active()
        with sqlite3.connect(sqlite_world.settings.sqlite_path) as conn:
            position, state = conn.execute(
                "SELECT rowid, state FROM stored_events WHERE originator_id = ? AND originator_version = 2",
                (entry.id.hex,),
            ).fetchone()
            conn.execute(
                "UPDATE stored_events SET state = ? WHERE rowid = ?",
                (state.replace(b"Necessary", b"necessary"), position),
            )
        monkeypatch.setattr(runner, "PARALLEL_THRESHOLD", 1)
        with pytest.raises(IntegrityFailure) as raised:
            catch_up(sqlite_world.app)
        assert {f.position for f in raised.value.failures} == {position}
        assert projection_store(sqlite_world.app).position() == 0


class TestStoredThenView:
    def test_the_stored_then_view_is_the_watchlist_judged_afresh_at_go_live_as_known_then(
        self, world: World, frozen: clock.FrozenClock
    ) -> None:
        entries = [world.active() for _ in range(3)]
        for entry in entries[:2]:  # the third has no source check: the gate excludes it
            world.app.entries.verify_source(
                world.custodian, entry.id, SourceStatus.LIVE, None, None
            )
        deployment = deploy(world, frozen, [e.id for e in entries])
        result = reconstruct(world.app, deployment.id)
        listed = [e["entry_id"] for e in result.entries if e["on_watchlist"]]
        excluded = [e["entry_id"] for e in result.entries if not e["on_watchlist"]]
        assert len(listed) == 2
        assert excluded == [str(entries[2].id)]
        with projection_store(world.app).reading() as tx:
            stored = stored_then(tx, str(deployment.id), result.then)
            afresh = judge_then(tx, listed, excluded, result.then)
        assert stored == afresh
        assert result.then.at == deployment.started_at
        assert result.entries == afresh["entries"]
        assert afresh["authorised_by"] == {str(e.id): world.authoriser.officer_id for e in entries}

    def test_a_reconstruction_without_the_stored_view_judges_every_entry_and_agrees(
        self, world: World, frozen: clock.FrozenClock
    ) -> None:
        entries = [world.active() for _ in range(2)]
        for entry in entries:
            world.app.entries.verify_source(
                world.custodian, entry.id, SourceStatus.LIVE, None, None
            )
        deployment = deploy(world, frozen, [e.id for e in entries])
        world.app.entries.remove(
            world.custodian, entries[0].id, RemovalReason.DECEASED,
            deployment.started_at - timedelta(hours=1), None, "Death registered late", "GRO-1",
        )  # fmt: skip
        stored = reconstruct(world.app, deployment.id).to_json()
        with projection_store(world.app).writing(Tracking("test", 1)) as tx:
            tx.run("DELETE FROM {t}wl_then_views")
        judged = reconstruct(world.app, deployment.id).to_json()
        assert judged == stored
        assert stored["summary"]["RETROACTIVELY_INVALIDATED"] == 1

    def test_entries_changed_since_a_position_are_found_however_many_others_changed(
        self, world: World
    ) -> None:
        entries = [world.proposed() for _ in range(4)]
        position = world.app.position()
        for entry in entries[1:]:
            world.app.entries.authorise(world.authoriser, entry.id, "Necessary and proportionate.")
        catch_up(world.app)
        ids = [str(e.id) for e in entries]
        with projection_store(world.app).reading() as tx:
            upto = world.app.position()
            # Few asked about, more changed: each entry's facts are sought.
            assert learned_about(tx, ids[:2], position, upto) == {ids[1]}
            # As many asked about as changed, or more: the index of last changes answers.
            assert learned_about(tx, ids, position, upto) == set(ids[1:])
            assert learned_about(tx, ids[:1], position, upto) == set()
