"""Deployments: authorise, compile the watchlist through the gate, start, end; and judging entries.

``judge`` answers "was this entry current and justified at T, as known at store position R?" from
verified events, with the one judge (``governance.domain.judging``) over the event store's entry
history. The compile gate is ``judge`` applied to every candidate at the planned start, as known now.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from governance import canonical, clock
from governance.domain import judging
from governance.domain.deployment import Deployment, UseCase, check_plan
from governance.domain.judging import Basis, Judgement
from governance.domain.permissions import Action
from governance.domain.vocabulary import Category, Status
from governance.errors import InvalidInput, PermissionDenied, RuleViolation
from governance.integrity.signing import Signer
from governance.services.entries import EntryService
from governance.services.policies import PolicyService
from governance.services.ports import Store
from governance.services.retry import retried
from governance.services.stored_history import StoredHistory


class DeploymentService:
    """Authorising, compiling, starting and ending deployments; point-in-time judgements."""

    def __init__(self, store: Store, entries: EntryService, policies: PolicyService) -> None:
        self.store = store
        self.entries = entries
        self.policies = policies

    @retried
    def authorise(
        self,
        signer: Signer,
        location: str,
        location_reason: str,
        objective: str,
        use_case: UseCase,
        categories: Iterable[Category],
        start: datetime,
        end: datetime,
    ) -> Deployment:
        """Authorise a deployment (authoriser of sufficient rank)."""
        officer = self.store.authenticate(signer, Action.AUTHORISE_DEPLOYMENT)
        now = clock.now()
        policy = self.policies.command_policy(now)
        if not officer.rank.at_least(policy.min_authoriser_rank):
            raise PermissionDenied(
                f"authoriser_rank_too_low: rank {officer.rank} is below {policy.min_authoriser_rank}"
            )
        check_plan(location, location_reason, objective, start, end, now)
        chosen = sorted(set(categories))
        if not chosen:
            raise InvalidInput("category: name at least one --category to seek")
        refused = [c.value for c in chosen if c not in policy.permitted_categories]
        if refused:
            raise InvalidInput(
                f"category: {', '.join(refused)} not permitted by the policy in force"
            )
        deployment = Deployment(
            actor=signer.officer_id,
            effective_at=now,
            location=location.strip(),
            location_reason=location_reason.strip(),
            objective=objective.strip(),
            use_case=use_case.value,
            categories=[c.value for c in chosen],
            planned_start=start,
            planned_end=end,
            rank=officer.rank.value,
        )
        self.store.record(deployment, signer=signer)
        return deployment

    @retried
    def compile(
        self,
        signer: Signer,
        deployment_id: UUID,
        candidates: Iterable[UUID],
        left_since: datetime | None = None,
    ) -> Deployment:
        """Run the gate over ``candidates`` at the planned start, as known now, and record it.

        Each candidate is included or excluded with its reasons; with ``left_since``, a candidate
        whose verified record shows it left the list (removed or expired) before then is not
        recorded at all (it is off the list, not an exclusion).
        """
        self.store.authenticate(signer, Action.COMPILE_DEPLOYMENT)
        deployment = self.get(deployment_id)
        basis, now = self.store.position(), clock.now()
        judged_at = deployment.planned_start
        in_force = self.policies.at(judged_at, basis)
        included, excluded = [], []
        for entry_id in sorted(set(candidates), key=str):
            judgement = self.judge(entry_id, judged_at, basis, deployment.categories)
            if left_since is not None and gone_before(judgement, left_since):
                continue
            if judgement.assessment.justified:
                included.append({"entry_id": str(entry_id), "version": judgement.version})
            else:
                excluded.append(
                    {"entry_id": str(entry_id), "reasons": list(judgement.assessment.reasons)}
                )
        compilation = {
            "basis": basis,
            "judged_at": judged_at,
            "policy_version": in_force.version,
            "manifest": included,
            "manifest_sha256": manifest_sha256(included),
            "excluded": excluded,
            "size_warning": len(included) > in_force.document.watchlist_size_warning,
        }
        deployment.compile(signer.officer_id, now, compilation)
        self.store.record(deployment, signer=signer)
        return deployment

    @retried
    def start(self, signer: Signer, deployment_id: UUID) -> Deployment:
        """Go live."""
        self.store.authenticate(signer, Action.RUN_DEPLOYMENT)
        deployment = self.get(deployment_id)
        now = clock.now()
        self.check_still_justified(deployment, now)
        deployment.start(signer.officer_id, now, self.policies.command_policy(now))
        self.store.record(deployment, signer=signer)
        return deployment

    def check_still_justified(self, deployment: Deployment, now: datetime) -> None:
        """Refuse to go live if any manifest entry is no longer justified now, as known now.

        The gate judged entries at the planned start; a late start, an early start, or a fact
        recorded since the compile (a removal, an overdue review) must not put anyone on a live
        watchlist who is not justified at the moment it goes live.
        """
        if deployment.compilation is None:
            return
        position = self.store.position()
        stale = []
        for item in deployment.compilation["manifest"]:
            judgement = self.judge(UUID(item["entry_id"]), now, position, deployment.categories)
            if not judgement.assessment.justified:
                stale.append(f"{item['entry_id']} ({', '.join(judgement.assessment.reasons)})")
        if stale:
            raise RuleViolation(
                "compile: the watchlist is out of date; these entries are no longer justified at go-live, "
                f"so compile it again: {'; '.join(stale)}"
            )

    @retried
    def end(self, signer: Signer, deployment_id: UUID) -> Deployment:
        """Stop."""
        self.store.authenticate(signer, Action.RUN_DEPLOYMENT)
        deployment = self.get(deployment_id)
        deployment.end(signer.officer_id, clock.now())
        self.store.record(deployment, signer=signer)
        return deployment

    def get(self, deployment_id: UUID) -> Deployment:
        """A verified deployment record, or NotFound."""
        deployment: Deployment = self.store.load(deployment_id, Deployment, "deployment")
        return deployment

    def judge(
        self,
        entry_id: UUID,
        at: datetime,
        known_at: int,
        permitted: Iterable[Category] | None = None,
    ) -> Judgement:
        """Was the entry current and justified at ``at``, as known at position ``known_at``?

        Read from the verified events (``NotFound`` if the entry has none), by the one judge.
        """
        in_force = self.policies.at(at, known_at)
        chosen = None if permitted is None else frozenset(permitted)
        on = Basis(at, known_at, in_force.version, in_force.document, chosen)
        return judging.judge(StoredHistory(self.store), [str(entry_id)], on)[str(entry_id)]


def gone_before(judgement: Judgement, left_since: datetime) -> bool:
    """True if the entry's verified state shows it off the list since before ``left_since``."""
    state = judgement.state  # expiry applied at the instant judged
    left = {Status.REMOVED: state.removed_at, Status.EXPIRED: state.expires_at}.get(
        state.status or Status.PROPOSED
    )
    return left is not None and left < left_since


def manifest_sha256(manifest: list[dict[str, Any]]) -> str:
    """SHA-256 of the RFC 8785 form of the manifest (entry ids and versions only)."""
    return hashlib.sha256(canonical.dumps(manifest)).hexdigest()
