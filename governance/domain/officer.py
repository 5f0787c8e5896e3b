"""Officers: enrolment, key rotation, rank and role changes, revocation.

An officer's stream is the registry of their public keys. Which key, rank and roles an officer had
at any store position is read from these events (``governance.domain.registry``), so a signature is judged
by the officer's standing when the event was recorded, not today.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from uuid import UUID

from eventsourcing.domain import AggregateCreated, event

from governance.domain.aggregate import Governed, named_stream
from governance.domain.vocabulary import Rank, Role
from governance.errors import InvalidInput, RuleViolation

OFFICER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")


@lru_cache(maxsize=4096)
def officer_stream(officer_id: str) -> UUID:
    """Stream id of an officer's record."""
    return named_stream("officer", officer_id)


def check_officer_id(officer_id: str, field: str = "officer_id") -> str:
    """Officer ids are 2-64 letters, digits, '.', '_' or '-', starting with a letter or digit."""
    if not OFFICER_ID.match(officer_id):
        raise InvalidInput(
            f"{field}: '{officer_id[:70]}' is not a valid officer id "
            "(2-64 letters, digits, '.', '_' or '-')"
        )
    return officer_id


class Officer(Governed):
    """One officer's identity, key, rank and roles over time."""

    TOPIC = "watchlist:Officer"

    @staticmethod
    def create_id(officer_id: str) -> UUID:
        """Officer streams are named by officer id, so a second enrolment collides."""
        return officer_stream(officer_id)

    class Enrolled(Governed.Event, AggregateCreated):
        """An admin enrolled the officer with a public key."""

        TOPIC = "watchlist:Officer.Enrolled"
        officer_id: str
        name: str
        rank: str
        roles: list[str]
        public_key: str
        key_id: str

    @event(Enrolled)
    def __init__(
        self,
        actor: str,
        effective_at: datetime,
        officer_id: str,
        name: str,
        rank: str,
        roles: list[str],
        public_key: str,
        key_id: str,
    ) -> None:
        self.officer_id = officer_id
        self.name = name
        self.rank = Rank(rank)
        self.roles = frozenset(Role(r) for r in roles)
        self.public_key = public_key
        self.key_id = key_id
        self.revoked = False
        self.revoked_at: datetime | None = None
        self.previous_key_ids: tuple[str, ...] = ()

    def revoke(self, actor: str, reason: str, now: datetime) -> None:
        """Revoke the officer and their key from now on."""
        self.check_not_revoked()
        if not reason.strip():
            raise InvalidInput("reason: a revocation needs a reason")
        self._revoke(actor=actor, effective_at=now, reason=reason)

    @event("Revoked", topic="watchlist:Officer.Revoked")
    def _revoke(self, actor: str, effective_at: datetime, reason: str) -> None:
        self.revoked = True
        self.revoked_at = effective_at

    def change_rank(self, actor: str, rank: Rank, reason: str, now: datetime) -> None:
        """Record a promotion or other change of rank."""
        self.check_not_revoked()
        if rank == self.rank:
            raise RuleViolation(f"rank: officer {self.officer_id} already holds rank {rank}")
        if not reason.strip():
            raise InvalidInput("reason: a rank change needs a reason")
        self._change_rank(actor=actor, effective_at=now, rank=rank.value, reason=reason)

    @event("RankChanged", topic="watchlist:Officer.RankChanged")
    def _change_rank(self, actor: str, effective_at: datetime, rank: str, reason: str) -> None:
        self.rank = Rank(rank)

    def change_roles(self, actor: str, roles: frozenset[Role], reason: str, now: datetime) -> None:
        """Replace the officer's roles."""
        self.check_not_revoked()
        if not roles:
            raise InvalidInput("role: an officer needs at least one role")
        if roles == self.roles:
            raise RuleViolation(f"role: officer {self.officer_id} already has exactly those roles")
        ordered = sorted(r.value for r in roles)
        self._change_roles(actor=actor, effective_at=now, roles=ordered, reason=reason)

    @event("RolesChanged", topic="watchlist:Officer.RolesChanged")
    def _change_roles(
        self, actor: str, effective_at: datetime, roles: list[str], reason: str
    ) -> None:
        self.roles = frozenset(Role(r) for r in roles)

    def rotate_key(
        self, actor: str, public_key: str, key_id: str, reason: str, now: datetime
    ) -> None:
        """Replace the officer's key; events signed later with the old key are invalid."""
        self.check_not_revoked()
        if key_id == self.key_id or key_id in self.previous_key_ids:
            raise RuleViolation("public-key: that key has already been used by this officer")
        self._rotate_key(
            actor=actor, effective_at=now, public_key=public_key, key_id=key_id, reason=reason
        )

    @event("KeyRotated", topic="watchlist:Officer.KeyRotated")
    def _rotate_key(
        self, actor: str, effective_at: datetime, public_key: str, key_id: str, reason: str
    ) -> None:
        self.previous_key_ids = (*self.previous_key_ids, self.key_id)
        self.public_key = public_key
        self.key_id = key_id

    def check_not_revoked(self) -> None:
        """Refuse changes to a revoked officer."""
        if self.revoked:
            raise RuleViolation(f"officer {self.officer_id} has been revoked")
