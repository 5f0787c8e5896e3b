"""Founding a store and managing its officers: enrol, revoke, change rank or roles, rotate keys."""

from __future__ import annotations

import re

from governance import clock
from governance.domain.officer import Officer, check_officer_id, officer_stream
from governance.domain.origin import ORIGIN_STREAM, Origin
from governance.domain.permissions import Action
from governance.domain.registry import OfficerState
from governance.domain.vocabulary import Rank, Role
from governance.errors import Conflict, InvalidInput, NotFound, RuleViolation
from governance.integrity import keys
from governance.integrity.signing import Signer
from governance.services.ports import Store
from governance.services.retry import retried

ORIGIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_/:]{0,199}$")


class OfficerService:
    """The store's founding record and its officers."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def found(
        self, origin: str, admin_name: str, admin_rank: Rank, signer: Signer, log_public_key: str
    ) -> None:
        """Create the store: the founding record and the first administrator, self-signed."""
        if not ORIGIN_NAME.match(origin):
            raise InvalidInput(
                "origin: use a short name such as 'example.police.uk/watchlist' "
                "(letters, digits, '.', '-', '_', '/', ':'; no spaces or '+')"
            )
        check_officer_id(signer.officer_id, "admin")
        if not admin_name.strip():
            raise InvalidInput("name: the administrator's name is required")
        if self.store.exists(ORIGIN_STREAM):
            raise Conflict(
                f"store: {self.store.settings.describe()} already holds a watchlist store"
            )
        now = clock.now()
        founding = Origin(
            actor=signer.officer_id,
            effective_at=now,
            origin=origin,
            admin_officer_id=signer.officer_id,
            admin_public_key=signer.public_key,
            log_public_key=log_public_key,
        )
        admin = Officer(
            actor=signer.officer_id,
            effective_at=now,
            officer_id=signer.officer_id,
            name=admin_name.strip(),
            rank=admin_rank.value,
            roles=[Role.ADMIN.value],
            public_key=signer.public_key,
            key_id=signer.key_id,
        )
        self.store.record(founding, admin, signer=signer, origin=origin)

    @retried
    def enrol(
        self,
        signer: Signer,
        officer_id: str,
        name: str,
        rank: Rank,
        roles: frozenset[Role],
        public_key: str,
    ) -> OfficerState:
        """Enrol an officer with their public key (admin only)."""
        self.store.authenticate(signer, Action.ENROL_OFFICER)
        check_officer_id(officer_id)
        problems = []
        if not name.strip():
            problems.append("name: the officer's name is required")
        if not roles:
            problems.append("role: give at least one --role")
        if problems:
            raise InvalidInput(problems)
        if self.is_enrolled(officer_id):
            raise Conflict(f"officer: {officer_id} is already enrolled")
        self._check_key_unshared(officer_id, public_key)
        officer = Officer(
            actor=signer.officer_id,
            effective_at=clock.now(),
            officer_id=officer_id,
            name=name.strip(),
            rank=rank.value,
            roles=sorted(r.value for r in roles),
            public_key=public_key,
            key_id=keys.key_id(public_key),
        )
        self.store.record(officer, signer=signer)
        return OfficerState.of(officer)

    @retried
    def revoke(self, signer: Signer, officer_id: str, reason: str) -> OfficerState:
        """Revoke an officer; their key signs nothing valid from now on."""
        self.store.authenticate(signer, Action.REVOKE_OFFICER)
        officer = self._officer(officer_id)
        if (
            Role.ADMIN in officer.roles
            and not officer.revoked
            and self._other_admins(officer_id) == 0
        ):
            raise RuleViolation("officer: cannot revoke the last active administrator")
        officer.revoke(signer.officer_id, reason, clock.now())
        return self._saved(officer, signer)

    @retried
    def change_rank(self, signer: Signer, officer_id: str, rank: Rank, reason: str) -> OfficerState:
        """Record a change of rank."""
        self.store.authenticate(signer, Action.CHANGE_RANK)
        officer = self._officer(officer_id)
        officer.change_rank(signer.officer_id, rank, reason, clock.now())
        return self._saved(officer, signer)

    @retried
    def change_roles(
        self, signer: Signer, officer_id: str, roles: frozenset[Role], reason: str
    ) -> OfficerState:
        """Replace an officer's roles."""
        self.store.authenticate(signer, Action.CHANGE_ROLES)
        officer = self._officer(officer_id)
        if (
            Role.ADMIN in officer.roles
            and Role.ADMIN not in roles
            and self._other_admins(officer_id) == 0
        ):
            raise RuleViolation("officer: cannot take the admin role from the last administrator")
        officer.change_roles(signer.officer_id, roles, reason, clock.now())
        return self._saved(officer, signer)

    @retried
    def rotate_key(
        self, signer: Signer, officer_id: str, public_key: str, reason: str
    ) -> OfficerState:
        """Register a new public key for an officer."""
        self.store.authenticate(signer, Action.ROTATE_KEY)
        officer = self._officer(officer_id)
        self._check_key_unshared(officer_id, public_key)
        officer.rotate_key(
            signer.officer_id, public_key, keys.key_id(public_key), reason, clock.now()
        )
        return self._saved(officer, signer)

    def all(self) -> list[OfficerState]:
        """Every officer ever enrolled, with current standing, in enrolment order."""
        ids = [
            str(self.store.codec.decode(n.state).payload["officer_id"])
            for n in self.store.notifications(["watchlist:Officer.Enrolled"])
        ]
        return [self.store.officer(officer_id) for officer_id in ids]

    def _check_key_unshared(self, officer_id: str, public_key: str) -> None:
        """Refuse a public key registered (now or before) to another officer: its holder could
        then propose as one officer and authorise as the other."""
        kid = keys.key_id(public_key)
        holders = [
            state.officer_id
            for state in self.all()
            if state.officer_id != officer_id
            and (state.key_id == kid or kid in state.previous_key_ids)
        ]
        if holders:
            raise RuleViolation(
                f"public-key: key {kid} is already registered to officer {', '.join(holders)}; "
                "each officer needs their own key"
            )

    def is_enrolled(self, officer_id: str) -> bool:
        """True if the officer id has ever been enrolled."""
        return self.store.exists(officer_stream(officer_id))

    def _officer(self, officer_id: str) -> Officer:
        if not self.is_enrolled(officer_id):
            raise NotFound(f"officer: {officer_id} is not enrolled in this store")
        officer: Officer = self.store.load(officer_stream(officer_id), Officer, "officer")
        return officer

    def _saved(self, officer: Officer, signer: Signer) -> OfficerState:
        self.store.record(officer, signer=signer)
        return OfficerState.of(officer)

    def _other_admins(self, officer_id: str) -> int:
        return sum(
            1
            for state in self.all()
            if state.officer_id != officer_id and Role.ADMIN in state.roles and not state.revoked
        )
