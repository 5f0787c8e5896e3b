"""Retrying a command once when another officer changed the record at the same moment.

The retry reloads the record and re-checks every rule against its new state, so no update is lost
and none is applied to a state it was not checked against. If the rules now refuse, the refusal says
what changed meanwhile.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from governance.errors import Conflict, Refused, StaleRecords

P = ParamSpec("P")
R = TypeVar("R")


def retried(command: Callable[P, R]) -> Callable[P, R]:
    """Run ``command``; on a concurrent change, run it once more from the new state."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        # A service's first argument is the service; its store forgets what the last attempt read.
        store = getattr(args[0], "store", None) if args else None
        begin = getattr(store, "begin_command", None)
        try:
            if begin is not None:
                begin()
            return command(*args, **kwargs)
        except Conflict as first:
            try:
                if begin is not None:
                    begin()
                return command(*args, **kwargs)
            except Conflict:
                raise first from None
            except Refused as now:
                if isinstance(first, StaleRecords):
                    raise  # the officer or policy records changed, and this is what they now say
                raise Conflict(f"{first.message}; now refused: {now.message}") from None

    return run
