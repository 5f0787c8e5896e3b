"""Building a reconstruction report pauses Python's cycle collector and always restores it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

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
