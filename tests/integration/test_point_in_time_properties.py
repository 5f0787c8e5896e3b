"""Property: the projection answers every (entry, T, R) exactly as a direct replay of the events does."""

from __future__ import annotations

import contextlib
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, reject, settings
from hypothesis import strategies as st

from governance import clock
from governance.domain.deployment import UseCase
from governance.domain.facts import CORRECTABLE, RETRACTABLE, resolve
from governance.domain.policy import PolicyDocument
from governance.domain.vocabulary import Category, Rank, RemovalReason, ReviewOutcome, SourceStatus
from governance.errors import GovernanceError
from governance.integrity.sealing import MasterKey
from governance.storage.settings import StoreSettings
from projections.judging import verdict, views
from projections.queries import inclusion
from projections.reconstruction import reconstruct
from projections.runner import projection_store
from tests.conftest import T0, World, found_world

STEP = st.one_of(
    st.tuples(st.just("authorise"), st.integers(0, 2)),
    st.tuples(
        st.just("check"), st.integers(0, 2), st.sampled_from(list(SourceStatus)), st.integers(0, 20)
    ),
    st.tuples(st.just("retain"), st.integers(0, 2)),
    st.tuples(st.just("remove"), st.integers(0, 2), st.integers(0, 200)),
    st.tuples(st.just("correct"), st.integers(0, 2), st.integers(1, 6), st.integers(-30, 30)),
    st.tuples(st.just("retract"), st.integers(0, 2), st.integers(2, 6)),
    st.tuples(
        st.just("policy"),
        st.sampled_from([Rank.SUPERINTENDENT, Rank.CHIEF_SUPERINTENDENT]),
        st.integers(1, 48),
    ),
    st.tuples(st.just("wait"), st.integers(1, 40)),
)
#: Any step, or the revocation of the only authoriser (after which nothing more is authorised).
ANY_STEP = st.one_of(STEP, st.tuples(st.just("revoke")))


def apply(world: World, ids: list[Any], step: tuple[Any, ...], handle: Any) -> None:
    app, now = world.app, clock.now()
    kind = step[0]
    if kind == "authorise":
        app.entries.authorise(world.authoriser, ids[step[1]], "Necessary and proportionate.")
    elif kind == "check":
        app.entries.verify_source(
            world.custodian, ids[step[1]], step[2], now - timedelta(hours=step[3]), None
        )
    elif kind == "retain":
        app.entries.review(world.reviewer, ids[step[1]], ReviewOutcome.RETAIN, "Keep.", None, None)
    elif kind == "remove":
        at = now - timedelta(hours=step[2])
        app.entries.remove(
            world.custodian, ids[step[1]], RemovalReason.CASE_CLOSED, at, None, "late", "REF"
        )
    elif kind == "correct":
        versions = live(app, ids[step[1]], CORRECTABLE)
        if versions:
            version = versions[step[2] % len(versions)]
            app.entries.correct(
                world.custodian,
                ids[step[1]],
                version,
                now + timedelta(hours=min(step[3], 0)),
                {},
                "Time was wrong",
                "REF",
            )
    elif kind == "retract":
        versions = live(app, ids[step[1]], RETRACTABLE)
        if versions:
            app.entries.retract(
                world.custodian,
                ids[step[1]],
                versions[step[2] % len(versions)],
                "Recorded in error",
            )
    elif kind == "policy":
        app.policies.publish(
            world.admin,
            PolicyDocument(min_authoriser_rank=step[1], source_freshness_hours=step[2]),
            None,
        )
    elif kind == "revoke":
        app.officers.revoke(world.admin, world.authoriser.officer_id, "Left the force")
    else:
        handle.advance(timedelta(hours=step[1]))


def live(app: Any, entry_id: Any, kinds: Any) -> list[int]:
    """Versions of the entry's facts in force whose kind is in ``kinds``."""
    return [
        fact.versions[-1] for fact in resolve(app.entries.get(entry_id).facts) if fact.kind in kinds
    ]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=st.lists(ANY_STEP, min_size=1, max_size=14), queries=st.data())
def test_the_projection_agrees_with_a_direct_replay_for_any_entry_t_and_r(
    steps: list[tuple[Any, ...]], queries: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as home, clock.frozen(T0) as handle:
        store = StoreSettings(Path(home))
        MasterKey.create(store.master_key_path)
        world = found_world(store)
        ids = [world.proposed().id for _ in range(3)]
        for step in steps:
            with contextlib.suppress(GovernanceError):
                apply(world, ids, step, handle)
        last = world.app.position()
        for _ in range(8):
            entry = queries.draw(st.sampled_from(ids))
            at = T0 + timedelta(
                hours=queries.draw(st.integers(-24, 24 * 25)),
                microseconds=queries.draw(st.sampled_from([-1, 0, 1])),
            )
            known_at = queries.draw(st.integers(1, last))
            oracle = world.app.deployments.judge(entry, at, known_at)
            _, view = inclusion(world.app, entry, at, known_at)
            assert view.assessment.reasons == oracle.assessment.reasons, (entry, at, known_at)
            assert (view.assessment.listed, view.assessment.current, view.assessment.justified) == (
                oracle.assessment.listed, oracle.assessment.current, oracle.assessment.justified,
            )  # fmt: skip
            assert view.version == oracle.version
        world.app.close()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(before=st.lists(STEP, max_size=8), after=st.lists(ANY_STEP, min_size=1, max_size=8))
# Learned after the compile, in force before go-live: the authoriser's revocation, a new policy.
@example(before=[], after=[("revoke",)])
@example(before=[], after=[("policy", Rank.SUPERINTENDENT, 1)])
def test_a_deployments_then_view_never_changes_when_later_events_arrive(
    before: list[tuple[Any, ...]], after: list[tuple[Any, ...]]
) -> None:
    with tempfile.TemporaryDirectory() as home, clock.frozen(T0) as handle:
        store = StoreSettings(Path(home))
        MasterKey.create(store.master_key_path)
        world = found_world(store)
        ids = [world.active().id for _ in range(3)]
        for step in before:
            with contextlib.suppress(GovernanceError):
                apply(world, ids, step, handle)
        for entry_id in ids:
            with contextlib.suppress(GovernanceError):
                world.app.entries.verify_source(
                    world.custodian, entry_id, SourceStatus.LIVE, None, None
                )
        start = clock.now() + timedelta(hours=1)
        if (
            world.app.policies.at(clock.now()).document.min_authoriser_rank
            is not Rank.SUPERINTENDENT
        ):
            reject()  # the enrolled authoriser may not authorise deployments under that policy
        deployment = world.app.deployments.authorise(
            world.authoriser, "Station", "Sought people travel through it", "Locate wanted people",
            UseCase.HOTSPOT, [Category.WANTED_ON_WARRANT], start, start + timedelta(hours=6),
        )  # fmt: skip
        world.app.deployments.compile(world.custodian, deployment.id, ids)
        first = reconstruct(world.app, deployment.id)
        assert first.manifest_matches, first.manifest_problems
        for step in after:
            with contextlib.suppress(GovernanceError):
                apply(world, ids, step, handle)
        again = reconstruct(world.app, deployment.id)
        assert [e["then"] for e in again.entries] == [e["then"] for e in first.entries]
        assert again.then == first.then
        # The "now" view reuses "then" answers nothing was learned about since; judged afresh,
        # every entry must read the same.
        # The "then" view is read back as the projection stored it at the compile: judged afresh,
        # it must read the same too.
        considered = [e["entry_id"] for e in again.entries]
        with projection_store(world.app).reading() as tx:
            afresh = views(tx, considered, again.now)
            afresh_then = views(tx, considered, again.then)
        assert [e["now"] for e in again.entries] == [verdict(afresh[e]) for e in considered]
        assert [e["then"] for e in again.entries] == [verdict(afresh_then[e]) for e in considered]
        world.app.close()
