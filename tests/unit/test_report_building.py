"""Building a reconstruction report: stored rows restored exactly; the cycle collector paused."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from typing import Any

import pytest

from projections.deployments import CONSISTENT, UNJUSTIFIED_THEN, packed, row, unpacked
from projections.reconstruction import cycle_collection_paused


@pytest.fixture
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


@pytest.mark.usefixtures("collector_on")
class TestCycleCollectionPaused:
    def test_the_collector_is_off_inside_and_on_again_after(self) -> None:
        with cycle_collection_paused():
            assert not gc.isenabled()
        assert gc.isenabled()

    def test_the_collector_comes_back_when_building_fails(self) -> None:
        with pytest.raises(RuntimeError), cycle_collection_paused():
            raise RuntimeError("the report could not be built")
        assert gc.isenabled()

    def test_a_collector_someone_else_switched_off_stays_off(self) -> None:
        gc.disable()
        with cycle_collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()


def evidence(entry_id: str, fact: str, recorded: str) -> dict[str, Any]:
    return {"fact": fact, "stream": entry_id, "version": 2, "position": 17, "actor": "SUPT-1",
            "type": "Authorised", "effective_at": "2026-06-01T05:10:00.000000Z", "recorded_at": recorded}  # fmt: skip


class TestStoredRows:
    def test_packed_rows_unpack_to_the_rows_judged(self) -> None:
        late = "2026-06-08T09:00:00.000000Z"
        justified = {"listed": True, "current": True, "justified": True, "reasons": [], "version": 2,
                     "evidence": [evidence("a", "authorised", "2026-06-01T05:10:00.000000Z")]}  # fmt: skip
        unjustified = {"listed": True, "current": False, "justified": False, "version": 3,
                       "reasons": ["source_not_verified_recently"], "evidence": [evidence("b", "removal", late)]}  # fmt: skip
        excluded = {**unjustified, "evidence": [evidence("c", "removal", late)]}
        document = {
            "entries": [
                row("a", True, justified, justified),
                row("b", True, unjustified, unjustified),
                row("c", False, excluded, excluded),
            ],
            "authorised_by": {"a": "SUPT-1"},
        }
        restored = unpacked(packed(document))
        assert restored == document
        assert [e["class"] for e in restored["entries"]] == [
            CONSISTENT,
            UNJUSTIFIED_THEN,
            CONSISTENT,
        ]
        assert all(e["now"] is e["then"] for e in restored["entries"])
        assert len(packed(document)) < len(json.dumps(document)) / 2
