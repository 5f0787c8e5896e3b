"""Shared helpers for the benchmarks: a scratch store, officers, timing, and machine facts."""

from __future__ import annotations

import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from governance.integrity.sealing import MasterKey
from governance.storage.settings import StoreSettings
from tests.conftest import World, found_world


def machine() -> str:
    """One line describing where the figures were measured."""
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


@contextmanager
def scratch_world(database_url: str | None = None) -> Iterator[World]:
    """A founded store with the standard officers in a temporary home."""
    with tempfile.TemporaryDirectory(prefix="watchlist-bench-") as home:
        settings = StoreSettings(Path(home), database_url)
        MasterKey.create(settings.master_key_path)
        world = found_world(settings)
        try:
            yield world
        finally:
            world.app.close()


def rate(count: int, action: Callable[[], None]) -> tuple[float, float]:
    """Run ``action`` and return (seconds, operations per second)."""
    started = time.perf_counter()
    action()
    elapsed = time.perf_counter() - started
    return elapsed, count / elapsed
