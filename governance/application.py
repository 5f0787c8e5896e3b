"""``WatchlistApp``: the one thin eventsourcing Application, and the services composed on it.

The application holds only the event-store plumbing: settings, the signing event store and the
verifier, who is acting (``authenticate``), signed saving (``record``) and verified loading
(``load``). Each use case lives in a service in ``governance.services`` that is given the
application (typed as ``governance.services.ports.Store``) and the other services it uses::

    app = WatchlistApp(settings)
    app.entries.propose(signer, proposal)
    app.deployments.compile(signer, deployment_id, candidates)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import ApplicationRecorder, Notification, RecordConflictError
from eventsourcing.utils import Environment, EnvType

from governance.domain.catalogue import EVENT_TYPES
from governance.domain.permissions import Action, require
from governance.domain.registry import OfficerState
from governance.errors import Conflict, NotFound, PermissionDenied, StaleRecords
from governance.integrity.envelope import EnvelopeCodec, EnvelopeError
from governance.integrity.signed_event_store import SignedEventStore
from governance.integrity.signing import Signer
from governance.integrity.verifier import Verifier
from governance.services.deployments import DeploymentService
from governance.services.disclosures import DisclosureService
from governance.services.entries import EntryService
from governance.services.officers import OfficerService
from governance.services.policies import PolicyService
from governance.services.retention import RetentionService
from governance.storage.recorders import WatchlistRecorder, as_watchlist_recorder
from governance.storage.records import StaleGovernance
from governance.storage.settings import StoreSettings


class WatchlistApp(Application[UUID]):
    """The watchlist governance store: signed writes, verified reads, and its services."""

    name = "watchlist"
    _relied_on: int | None = None  # the oldest watermark the current command's authentications read

    def __init__(self, settings: StoreSettings) -> None:
        self.settings = settings
        super().__init__(env=settings.library_env())
        self.officers = OfficerService(self)
        self.policies = PolicyService(self)
        self.entries = EntryService(self, self.policies)
        self.deployments = DeploymentService(self, self.entries, self.policies)
        self.retention = RetentionService(self, self.entries)
        self.disclosures = DisclosureService(self)
        if self.scrub_marker.exists():
            self.scrub()  # finish an erasure's clean-up that an open reader held up last time

    def construct_recorder(self) -> ApplicationRecorder:
        """The library's recorder; on PostgreSQL its table set-up is serialised across processes."""
        with self.setup_lock():
            return super().construct_recorder()

    @contextmanager
    def setup_lock(self) -> Iterator[None]:
        """On PostgreSQL, one process at a time creates or updates tables (``CREATE OR REPLACE``
        statements race otherwise); on SQLite the database's own lock suffices."""
        if self.settings.database_url is None:
            yield
            return
        import psycopg  # noqa: PLC0415 - imported on PostgreSQL only (slow to import)

        params = self.settings.postgres_connection()
        with psycopg.connect(autocommit=True, **params) as conn:  # type: ignore[arg-type]
            key = f"{self.settings.postgres_schema()}/watchlist-setup"
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))

    @property
    def scrub_marker(self) -> Path:
        return self.settings.home / "scrub-pending"

    def scrub(self) -> None:
        """Leave no copy of erased keys in the database's files (retried on the next open if held up)."""
        if self.store_recorder.scrub():
            self.scrub_marker.unlink(missing_ok=True)
        else:
            self.scrub_marker.parent.mkdir(parents=True, exist_ok=True)
            self.scrub_marker.touch()

    def close(self) -> None:
        """Close, first finishing any held-up clean-up after an erasure."""
        if getattr(self, "settings", None) is not None and self.scrub_marker.exists():
            with contextlib.suppress(Exception):
                self.scrub()
        super().close()

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only our explicit settings: ambient ``POSTGRES_*`` or ``CIPHER_*`` variables never leak in."""
        return Environment(name, dict(env or {}))

    def construct_event_store(self) -> SignedEventStore:
        self.store_recorder: WatchlistRecorder = as_watchlist_recorder(self.recorder)
        self.codec = EnvelopeCodec(self.mapper.transcoder)  # type: ignore[arg-type]
        self.verifier = Verifier(self.store_recorder, self.codec, EVENT_TYPES)
        return SignedEventStore(self.mapper, self.recorder, self.codec, self.verifier)

    @property
    def signed_events(self) -> SignedEventStore:
        """The event store, typed as ours."""
        assert isinstance(self.events, SignedEventStore)
        return self.events

    # -- identity -------------------------------------------------------------------------

    def position(self) -> int:
        """The highest store position so far (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    def refresh(self) -> None:
        """Read the officer and policy records stored by others since this process last looked."""
        self.verifier.feed.sync()

    def officer(self, officer_id: str) -> OfficerState:
        """An officer's current, verified standing."""
        self.refresh()
        return self._standing(officer_id)

    def _standing(self, officer_id: str) -> OfficerState:
        state = self.verifier.current(officer_id)
        if state is None:
            raise NotFound(f"officer: {officer_id} is not enrolled in this store")
        return state

    def begin_command(self) -> None:
        """Forget what an earlier command relied on (``retried`` calls this before each attempt)."""
        self._relied_on = None

    def authenticate(self, signer: Signer, action: Action, *, fresh: bool = False) -> OfficerState:
        """The acting officer, if their unlocked key is their current key and they may act.

        Judged on the officer records this process has read; the command's write then checks, under
        the store's write lock, that no officer or policy record arrived since the oldest of its
        authentications (``record``). An action that writes nothing passes ``fresh=True`` to read
        what was stored since first.
        """
        if fresh:
            self.refresh()
        known = self.verifier.feed.watermark()
        self._relied_on = known if self._relied_on is None else min(self._relied_on, known)
        try:
            state = self._standing(signer.officer_id)
        except NotFound:
            raise PermissionDenied(
                f"officer: {signer.officer_id} is not enrolled in this store"
            ) from None
        if state.revoked:
            raise PermissionDenied(f"officer: {signer.officer_id} has been revoked")
        if state.key_id != signer.key_id:
            raise PermissionDenied(
                f"key: the key used is not the registered key of officer {signer.officer_id}"
            )
        require(state.officer_id, state.roles, action)
        return state

    # -- writing --------------------------------------------------------------------------

    def record(self, *aggregates: Any, signer: Signer, **kwargs: Any) -> None:
        """Save aggregates' new events signed by ``signer``; a concurrent change is a Conflict.

        The write is refused, writing nothing, if an officer or policy record was stored after the
        position this process's checks relied on (``OfficerFeed.known``): the command's checks of the
        signer's standing and of the policy in force would be stale. That is a Conflict too, and
        ``retried`` service calls run again on the new records.
        """
        started = [(a.id, a.version - len(a.pending_events)) for a in aggregates]
        # The oldest view of officers and policy the command's checks may rest on: the one its
        # authentication read, even if a later read (of the policy, say) moved the watermark on.
        known = self.verifier.feed.watermark() if self._relied_on is None else self._relied_on
        try:
            self.save(*aggregates, signer=signer, governance_known=known, **kwargs)
        except RecordConflictError:
            raise Conflict(f"conflict: {self.what_changed(started)}") from None
        except StaleGovernance:
            self.refresh()
            raise StaleRecords(
                "conflict: officer or policy records changed while this action was being taken"
            ) from None
        finally:
            self._relied_on = None

    def what_changed(self, started: list[tuple[UUID, int]]) -> str:
        """Say which record changed since it was read, and how (for a conflict message)."""
        for stream, version in started:
            for record in self.store_recorder.select_records(stream, gt=version)[:1]:
                try:
                    envelope = self.codec.decode(record.stored.state, typed=False)
                    how = f"{envelope.type.rpartition('.')[2]} by {envelope.actor}"
                except EnvelopeError:
                    how = "an unreadable event"
                return f"{stream} changed meanwhile ({how}, at store position {record.position})"
        return "the record changed while this action was being taken"

    def load(self, stream: UUID, kind: type[Any], label: str) -> Any:
        """A verified aggregate of type ``kind``, or NotFound."""
        try:
            aggregate: Any = self.repository.get(stream)
        except AggregateNotFoundError:
            raise NotFound(f"{label}: {stream} not found") from None
        if not isinstance(aggregate, kind):
            raise NotFound(f"{label}: {stream} is not a {label}")
        return aggregate

    def exists(self, stream: UUID) -> bool:
        """True if the stream has any event."""
        return bool(self.store_recorder.select_records(stream, lte=1))

    @contextmanager
    def advisory_lock(self, name: str) -> Iterator[bool]:
        """A PostgreSQL session advisory lock held for the block; yields whether it was acquired."""
        datastore = self.recorder.datastore  # type: ignore[attr-defined]
        key = f"{self.settings.postgres_schema()}/{name}"
        with datastore.get_connection() as conn:
            row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s)) AS ok", (key,)).fetchone()
            acquired = bool(row and row["ok"])
            try:
                yield acquired
            finally:
                if acquired:
                    conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))

    def notifications(
        self, topics: list[str], batch: int = 500, start: int = 1
    ) -> Iterator[Notification]:
        """Every stored event of the given types from position ``start``, in store order."""
        while True:
            page = self.recorder.select_notifications(start, batch, topics=topics)
            yield from page
            if len(page) < batch:
                return
            start = page[-1].id + 1
