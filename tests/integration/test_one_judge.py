"""The one judge reads the same answer from the verified event store and from the projection."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from governance import clock
from governance.domain.judging import Judgement, judge
from governance.domain.policy import PolicyDocument
from governance.domain.vocabulary import Category, Rank, RemovalReason, SourceStatus
from governance.services.stored_history import StoredHistory
from projections.judging import ProjectedHistory, basis
from projections.runner import catch_up, projection_store
from tests.conftest import T0, World


def a_small_store(world: World, frozen: clock.FrozenClock) -> list[str]:
    """Entries in every state the judge distinguishes, with a revocation and a policy change."""
    active, removed, proposed, by_inspector = (
        world.active(),
        world.active(),
        world.proposed(),
        world.proposed(),
    )
    world.app.policies.publish(
        world.admin, PolicyDocument(min_authoriser_rank=Rank.INSPECTOR), None
    )
    world.app.entries.authorise(world.inspector, by_inspector.id, "Necessary and proportionate.")
    for entry in (active, removed, by_inspector):
        world.app.entries.verify_source(world.custodian, entry.id, SourceStatus.LIVE, None, None)
    frozen.advance(timedelta(days=2))
    world.app.entries.verify_source(world.custodian, active.id, SourceStatus.LIVE, None, None)
    world.app.entries.remove(
        world.custodian,
        removed.id,
        RemovalReason.CASE_CLOSED,
        clock.now() - timedelta(days=1),
        None,
    )
    world.app.officers.revoke(world.admin, world.inspector.officer_id, "Left the force")
    world.app.policies.publish(
        world.admin, PolicyDocument(min_authoriser_rank=Rank.SUPERINTENDENT), None
    )
    return [str(e.id) for e in (active, removed, proposed, by_inspector)]


def both(
    world: World, ids: list[str], at: Any, known_at: int, permitted: Any = None
) -> tuple[dict[str, Judgement], dict[str, Judgement]]:
    """The judgements read from the event store and from the projection, on the same basis."""
    catch_up(world.app)
    with projection_store(world.app).reading() as tx:
        on = basis(tx, at, known_at, permitted)
        projected = judge(ProjectedHistory(tx), ids, on)
    return judge(StoredHistory(world.app), ids, on), projected


class TestOneJudgeTwoHistories:
    def test_the_event_store_and_the_projection_give_identical_judgements(
        self, world: World, frozen: clock.FrozenClock
    ) -> None:
        ids = a_small_store(world, frozen)
        last = world.app.position()
        for hours in (-1, 0, 1, 30, 47, 49, 24 * 30, 24 * 200):
            for known_at in range(1, last + 1):
                stored, projected = both(world, ids, T0 + timedelta(hours=hours), known_at)
                assert stored == projected, (hours, known_at)

    def test_every_kind_of_verdict_is_covered_by_the_comparison(
        self, world: World, frozen: clock.FrozenClock
    ) -> None:
        ids = a_small_store(world, frozen)
        stored, projected = both(
            world, ids, clock.now(), world.app.position(), [Category.WANTED_ON_WARRANT]
        )
        reasons = {e: stored[e].assessment.reasons for e in ids}
        assert stored == projected
        assert stored[ids[0]].assessment.justified
        assert "removed" in reasons[ids[1]]
        assert "not_authorised" in reasons[ids[2]]
        assert {"signer_key_revoked", "authoriser_rank_too_low"} <= set(reasons[ids[3]])
        assert all(item["position"] <= world.app.position() for item in stored[ids[0]].evidence)

    def test_a_proposed_entry_past_its_expiry_reads_expired_from_both(
        self, world: World, frozen: clock.FrozenClock
    ) -> None:
        entry = str(world.proposed().id)
        stored, projected = both(world, [entry], T0 + timedelta(days=200), world.app.position())
        assert stored == projected
        assert stored[entry].assessment.reasons[0] == "expired"
        assert "not_authorised" not in stored[entry].assessment.reasons

    def test_the_compile_gate_and_the_projection_agree_through_the_service(
        self, world: World, frozen: clock.FrozenClock
    ) -> None:
        ids = a_small_store(world, frozen)
        _, projected = both(world, ids, clock.now(), world.app.position())
        for entry_id in ids:
            gate = world.app.deployments.judge(UUID(entry_id), clock.now(), world.app.position())
            assert gate == projected[entry_id]
