"""Publishing policy versions and finding the one in force at an instant, as known at a position."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from governance import clock
from governance.domain.permissions import Action
from governance.domain.policy import DEFAULT, PolicyDocument, PolicyVersion
from governance.errors import InvalidInput
from governance.integrity.signing import Signer
from governance.services.ports import Store
from governance.services.retry import retried


@dataclass(frozen=True)
class InForce:
    """A policy version with where and when it took effect (version 0: the built-in defaults)."""

    version: int
    effective_at: datetime | None
    position: int
    document: PolicyDocument


BUILT_IN = InForce(0, None, 0, DEFAULT)


class PolicyService:
    """Publishing policy versions and finding the one in force."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._published: list[InForce] = []  # read once, then only what was published since

    @retried
    def publish(
        self, signer: Signer, document: PolicyDocument, effective_at: datetime | None
    ) -> InForce:
        """Publish the next policy version, in force from ``effective_at`` (default: now)."""
        self.store.authenticate(signer, Action.PUBLISH_POLICY)
        now = clock.now()
        current = policy_in_force(self._read_versions(), now)
        at = effective_at or document.effective_at or now
        if at < now - timedelta(minutes=current.document.max_future_skew_minutes):
            raise InvalidInput(
                "effective-at: a policy cannot take effect in the past; past decisions are judged "
                "by the policy that was in force when they were made"
            )
        versions = self.versions()
        number = (versions[-1].version if versions else 0) + 1
        published = PolicyVersion(
            actor=signer.officer_id, effective_at=at, version=number, document=document.as_record()
        )
        self.store.record(published, signer=signer)
        return InForce(number, at, self.store.position(), document)

    def versions(self, known_at: int | None = None) -> list[InForce]:
        """Every published version known at store position ``known_at`` (default: now).

        Reads any officer and policy records stored since this process last looked first (one
        short query).
        """
        if known_at is None or known_at > self.store.verifier.feed.known:
            self.store.refresh()
        return [v for v in self._read_versions() if known_at is None or v.position <= known_at]

    def command_policy(self, at: datetime) -> PolicyDocument:
        """The policy in force at ``at`` as the current command read it, with no fresh read.

        The command's write is refused if a newer policy arrived meanwhile, and the command runs
        again on it (see ``WatchlistApp.record``).
        """
        return policy_in_force(self._read_versions(), at).document

    def _read_versions(self) -> list[InForce]:
        """Every version among the policy records read so far, by version number."""
        self.store.verifier.feed.watermark()
        for record in self.store.verifier.feed.policy_records[len(self._published) :]:
            published: PolicyVersion = self.store.load(
                record.stored.originator_id,  # type: ignore[arg-type]
                PolicyVersion,
                "policy",
            )
            self._published.append(
                InForce(
                    published.number, published.effective_at, record.position, published.document
                )
            )
        return sorted(self._published, key=lambda v: v.version)

    def at(self, at: datetime, known_at: int | None = None) -> InForce:
        """The version in force at ``at``, as known at ``known_at``."""
        return policy_in_force(self.versions(known_at), at)


def policy_in_force(versions: list[InForce], at: datetime) -> InForce:
    """The latest-effective version whose effective time is at or before ``at``."""
    candidates = [v for v in versions if v.effective_at is not None and v.effective_at <= at]
    if not candidates:
        return BUILT_IN
    return max(candidates, key=lambda v: (v.effective_at, v.version))
