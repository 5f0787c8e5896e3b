"""Property: any valid sequence of decisions replays to the same state after the store reopens."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.documents import entry_view
from governance import clock
from governance.domain.vocabulary import RemovalReason, ReviewOutcome, SourceStatus
from governance.errors import GovernanceError
from governance.integrity.sealing import MasterKey
from governance.services.store_audit import verify_store
from governance.storage.settings import StoreSettings
from tests.conftest import T0, found_world

STEPS = st.lists(
    st.one_of(
        st.just(("authorise",)),
        st.tuples(st.just("check"), st.sampled_from(list(SourceStatus))),
        st.tuples(st.just("retain"), st.integers(min_value=1, max_value=80)),
        st.just(("review-remove",)),
        st.tuples(st.just("remove"), st.sampled_from(list(RemovalReason))),
        st.tuples(st.just("wait"), st.integers(min_value=1, max_value=72)),
    ),
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS, entries=st.integers(min_value=1, max_value=3))
def test_random_valid_lifecycles_replay_identically_after_reopening(
    steps: list[tuple[object, ...]], entries: int
) -> None:
    with tempfile.TemporaryDirectory() as home, clock.frozen(T0) as time:
        store = StoreSettings(Path(home))
        MasterKey.create(store.master_key_path)
        world = found_world(store)
        ids = [world.proposed().id for _ in range(entries)]
        for index, step in enumerate(steps):
            entry_id = ids[index % entries]
            before = world.app.position()
            try:
                apply(world, entry_id, step, time)
            except GovernanceError:
                assert world.app.position() == before, "a refused step wrote an event"
        views = [entry_view(world.app.entries.get(i), clock.now()) for i in ids]
        position = world.app.position()
        world.app.close()
        reopened = world.reopen()
        assert [entry_view(reopened.entries.get(i), clock.now()) for i in ids] == views
        assert reopened.position() == position
        assert verify_store(reopened).ok
        reopened.close()


def apply(world, entry_id, step, time) -> None:  # type: ignore[no-untyped-def]
    kind = step[0]
    app = world.app
    if kind == "authorise":
        app.entries.authorise(world.authoriser, entry_id, "Necessary and proportionate.")
    elif kind == "check":
        app.entries.verify_source(world.custodian, entry_id, step[1], None, None)
    elif kind == "retain":
        app.entries.review(
            world.reviewer,
            entry_id,
            ReviewOutcome.RETAIN,
            "Keep.",
            clock.now() + timedelta(days=step[1]),
            None,
        )
    elif kind == "review-remove":
        app.entries.review(
            world.reviewer, entry_id, ReviewOutcome.REMOVE, "Not needed.", None, None
        )
    elif kind == "remove":
        app.entries.remove(world.custodian, entry_id, step[1], None, None)
    else:
        time.advance(timedelta(hours=step[1]))
