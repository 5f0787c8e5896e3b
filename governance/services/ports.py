"""What a service needs from the store: the one ``Protocol`` every service is given.

``governance.application.WatchlistApp`` provides it; a service sees only these members, so a reader
finds every dependency of a service in its constructor and here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Notification

from governance.domain.permissions import Action
from governance.domain.registry import OfficerState
from governance.integrity.envelope import EnvelopeCodec
from governance.integrity.signed_event_store import SignedEventStore
from governance.integrity.signing import Signer
from governance.integrity.verifier import Verifier
from governance.storage.records import WatchlistRecorder
from governance.storage.settings import StoreSettings


class Store(Protocol):
    """Signed writes, verified reads and who is acting (see ``WatchlistApp``)."""

    settings: StoreSettings
    store_recorder: WatchlistRecorder
    codec: EnvelopeCodec
    verifier: Verifier

    @property
    def signed_events(self) -> SignedEventStore: ...

    def begin_command(self) -> None: ...

    def authenticate(
        self, signer: Signer, action: Action, *, fresh: bool = False
    ) -> OfficerState: ...

    def record(self, *aggregates: Any, signer: Signer, **kwargs: Any) -> None: ...

    def load(self, stream: UUID, kind: type[Any], label: str) -> Any: ...

    def exists(self, stream: UUID) -> bool: ...

    def position(self) -> int: ...

    def refresh(self) -> None: ...

    def officer(self, officer_id: str) -> OfficerState: ...

    def notifications(
        self, topics: list[str], batch: int = 500, start: int = 1
    ) -> Iterator[Notification]: ...

    def scrub(self) -> None: ...

    def advisory_lock(self, name: str) -> AbstractContextManager[bool]: ...
