"""Checked reconstruction in a process that has verified the events before, and on every core.

A second reconstruction in the same process takes each stream from the verified-event memory only
if every event is stored exactly as it was verified; a byte changed since is checked in full again
and named. The same checks hold when the signatures are verified by a process pool.
"""

from __future__ import annotations

from typing import Any

import pytest

from governance import clock
from governance.errors import IntegrityFailure
from governance.services import reconstruction
from governance.services.reconstruction import checked_reconstruction
from projections.runner import catch_up
from tests.conftest import World
from tests.tamper.test_projection_tamper import deployed, sql


def forge_authorisation(world: World, entry: Any) -> int:
    """Change one byte of the entry's authorisation (version 2); return its position."""
    table = world.app.recorder.events_table_name  # type: ignore[attr-defined]
    record = world.app.store_recorder.select_records(entry)[1]
    state = record.stored.state.replace(b"Necessary", b"Necessarz")
    assert state != record.stored.state
    key: Any = entry.hex if world.settings.database_url is None else entry
    text = f"UPDATE {{t}}{table} SET state = ? WHERE originator_id = ? AND originator_version = 2"
    assert sql(world.settings, text, state, key) == 1
    return record.position


def test_a_byte_changed_after_a_first_reconstruction_is_caught_by_the_second(
    world: World, frozen: clock.FrozenClock
) -> None:
    entries = [world.active().id, world.active().id]
    deployment = deployed(world, frozen, entries)
    catch_up(world.app)
    first = checked_reconstruction(world.app, deployment)  # remembers every event verified
    again = checked_reconstruction(world.app, deployment)  # from that memory
    assert again.to_json() == first.to_json()
    position = forge_authorisation(world, entries[1])
    with pytest.raises(IntegrityFailure) as raised:
        checked_reconstruction(world.app, deployment)
    assert f"position {position}" in raised.value.message


def test_signatures_checked_on_every_core_name_the_forged_event(
    world: World, frozen: clock.FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reconstruction, "PARALLEL_ENTRIES", 1)
    monkeypatch.setattr(reconstruction, "CHUNK", 1)
    monkeypatch.setattr(reconstruction.os, "cpu_count", lambda: 2)
    entries = [world.active().id for _ in range(3)]
    deployment = deployed(world, frozen, entries)
    catch_up(world.app)
    fresh = world.reopen()
    try:
        assert checked_reconstruction(fresh, deployment).manifest_matches
    finally:
        fresh.close()
    position = forge_authorisation(world, entries[2])
    fresh = world.reopen()
    try:
        with pytest.raises(IntegrityFailure) as raised:
            checked_reconstruction(fresh, deployment)
        assert f"position {position}" in raised.value.message
    finally:
        fresh.close()
