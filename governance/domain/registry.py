"""An officer's standing at a store position: key, rank, roles, and whether revoked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from governance.domain.officer import Officer
from governance.domain.vocabulary import Rank, Role


@dataclass(frozen=True)
class OfficerState:
    """What the registry says of one officer as of some position."""

    officer_id: str
    name: str
    rank: Rank
    roles: frozenset[Role]
    key_id: str
    public_key: str
    revoked: bool
    revoked_at: datetime | None
    previous_key_ids: tuple[str, ...]

    @classmethod
    def of(cls, officer: Officer) -> OfficerState:
        """Freeze an officer aggregate's current state."""
        return cls(
            officer_id=officer.officer_id,
            name=officer.name,
            rank=officer.rank,
            roles=officer.roles,
            key_id=officer.key_id,
            public_key=officer.public_key,
            revoked=officer.revoked,
            revoked_at=officer.revoked_at,
            previous_key_ids=officer.previous_key_ids,
        )

    @property
    def status(self) -> str:
        """``active`` or ``revoked``."""
        return "revoked" if self.revoked else "active"
