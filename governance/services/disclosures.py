"""Recording disclosures and listing every access to personal data (``watchlist audit access``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from governance import clock
from governance.domain.consultation import Disclosure
from governance.domain.permissions import Action
from governance.domain.rules import check_text
from governance.errors import InvalidInput
from governance.integrity.signing import Signer
from governance.services.ports import Store
from governance.services.retry import retried
from governance.times import format_instant

TOPICS = ["watchlist:Consultation.Recorded", "watchlist:Disclosure.Recorded"]


@dataclass(frozen=True)
class Access:
    """One logged consultation or disclosure."""

    position: int
    at: str
    officer_id: str
    kind: str
    entry_id: str | None
    purpose: str
    recipient: str | None
    scope: str | None


class DisclosureService:
    """Disclosure records and the access log."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @retried
    def record(self, signer: Signer, purpose: str, recipient: str, scope: str) -> Disclosure:
        """Log an export of the record (legal), before the bundle is handed over."""
        self.store.authenticate(signer, Action.EXPORT_RECORD)
        check_text("purpose", purpose)
        if not recipient.strip():
            raise InvalidInput("recipient: name who receives the export")
        disclosure = Disclosure(
            actor=signer.officer_id,
            effective_at=clock.now(),
            purpose=purpose.strip(),
            recipient=recipient.strip(),
            scope=scope,
        )
        self.store.record(disclosure, signer=signer)
        return disclosure

    def accesses(
        self, signer: Signer, entry_id: str | None = None, officer_id: str | None = None
    ) -> list[Access]:
        """Every consultation and disclosure, verified, oldest first, optionally filtered.

        Only an officer who may read the access log (legal, admin) may ask; their standing is read
        fresh, since asking writes nothing.
        """
        self.store.authenticate(signer, Action.READ_ACCESS_LOG, fresh=True)
        found = []
        for note in self.store.notifications(TOPICS):
            (checked,) = self.store.signed_events.read_verified(note.originator_id, lte=1)  # type: ignore[arg-type]
            assert checked.envelope is not None
            payload: dict[str, Any] = checked.envelope.payload
            access = Access(
                position=note.id,
                at=format_instant(checked.envelope.effective_at),
                officer_id=checked.envelope.actor,
                kind=str(payload.get("kind", "disclosure")),
                entry_id=payload.get("entry_id"),
                purpose=str(payload["purpose"]),
                recipient=payload.get("recipient"),
                scope=payload.get("scope"),
            )
            if entry_id is not None and not self._concerns(access, entry_id):
                continue
            if officer_id is not None and access.officer_id != officer_id:
                continue
            found.append(access)
        return found

    def _concerns(self, access: Access, entry_id: str) -> bool:
        """A consultation of this entry, or a disclosure made after the entry was proposed."""
        if access.kind != "disclosure":
            return access.entry_id == entry_id
        first = self.store.store_recorder.select_records(UUID(entry_id), lte=1)
        return bool(first) and first[0].position < access.position
