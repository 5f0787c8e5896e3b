"""What the application needs from its recorders, shared by the SQLite and PostgreSQL ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent

#: A stored event as plain values: (position, stream id text, version, topic, state).
Row = tuple[int, str, int, str, bytes]

POLICY_PUBLISHED = "watchlist:PolicyVersion.Published"
#: The event types that change who may sign what, or the rules in force: officers and policy.
GOVERNANCE_TOPICS = (
    "watchlist:Officer.Enrolled",
    "watchlist:Officer.Revoked",
    "watchlist:Officer.RankChanged",
    "watchlist:Officer.RolesChanged",
    "watchlist:Officer.KeyRotated",
    POLICY_PUBLISHED,
)


class StaleGovernance(Exception):
    """An officer or policy event was stored after the position a write's checks relied on.

    Raised inside the write's transaction (so nothing is written); the application reads the new
    events and runs the command again.
    """


def governance_known(kwargs: dict[str, Any]) -> int | None:
    """The position up to which the writer knew every officer and policy event, if it says."""
    known: int | None = kwargs.get("governance_known")
    return known


@dataclass(frozen=True)
class Record:
    """A stored event and its position in the store's global order."""

    position: int
    stored: StoredEvent


class WatchlistRecorder(Protocol):
    """What the application needs from a recorder beyond the library's interface."""

    def select_records(
        self, originator_id: UUID, *, gt: int | None = None, lte: int | None = None
    ) -> list[Record]: ...

    def select_streams(self, originator_ids: Sequence[UUID]) -> list[Record]: ...

    def subject_key(self, key_ref: str) -> str | None: ...

    def subject_key_refs(self) -> set[str]: ...

    def scrub(self) -> bool: ...

    def tree_size(self) -> int: ...

    def tree_nodes(self) -> TreeReader: ...

    def select_rows(self, start: int, limit: int) -> list[Row]: ...

    def governance_since(self, after: int) -> tuple[int, list[Record]]: ...


class TreeReader(Protocol):
    """Reads the stored Merkle log."""

    def node(self, level: int, index: int) -> bytes: ...

    def leaf_index(self, position: int) -> int | None: ...

    def leaves(self, start: int, limit: int) -> list[tuple[int, int, bytes]]: ...


def subject_key_rows(kwargs: dict[str, Any]) -> Sequence[tuple[str, str]]:
    """The (key_ref, wrapped_key) rows passed to ``insert_events`` as ``subject_keys=``."""
    rows: Sequence[tuple[str, str]] = kwargs.get("subject_keys", ())
    return rows


def hyphenate(stream: str) -> str:
    """The canonical text of a UUID stored as 32 hex digits."""
    if len(stream) != 32:
        return stream
    return f"{stream[:8]}-{stream[8:12]}-{stream[12:16]}-{stream[16:20]}-{stream[20:]}"
