"""The one rule: was an entry's inclusion current and justified at T?

``assess`` is pure: it takes the entry's state at T (as known at some store position R), the policy
in force at T, the deployment's permitted categories and whether the authorising officer had been
revoked by T, and returns the verdict with reason codes and the facts it rests on. The compile gate,
``watchlist inclusion`` and deployment reconstruction all call it, so they can never disagree.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from governance.domain.facts import EntryState
from governance.domain.policy import PolicyDocument
from governance.domain.vocabulary import Category, Rank, SourceStatus, Status

#: Reasons the entry was not on the watchlist at T at all.
NOT_LISTED = ("not_proposed", "not_authorised", "removed", "expired")
#: Reasons the entry was listed but not current (stale or resolved).
NOT_CURRENT = ("review_overdue", "source_not_verified_recently", "source_resolved")


@dataclass(frozen=True)
class Assessment:
    """The verdict on one entry at one (T, R), with its reasons and evidence (fact versions)."""

    listed: bool
    current: bool
    justified: bool
    reasons: tuple[str, ...]
    evidence: Mapping[str, tuple[int, ...]]


def assess(
    state: EntryState,
    at: datetime,
    policy: PolicyDocument,
    permitted: Collection[Category] | None = None,
    authoriser_revoked: bool = False,
) -> Assessment:
    """Judge ``state`` (the entry at ``at``) against ``policy`` and the permitted categories."""
    reasons: list[str] = []
    status = state.status
    if status is None:
        reasons.append("not_proposed")
    elif status is Status.PROPOSED:
        reasons.append("not_authorised")
    elif status is Status.REMOVED:
        reasons.append("removed")
    if status is Status.EXPIRED or (state.expires_at is not None and state.expires_at <= at):
        reasons.append("expired")
    if status is not None:
        reasons += _currency(state, at, policy)
        reasons += _justification(state, policy, permitted, authoriser_revoked)
    unique = tuple(dict.fromkeys(reasons))
    listed = not any(r in NOT_LISTED for r in unique)
    current = listed and not any(r in NOT_CURRENT for r in unique)
    return Assessment(listed, current, current and not unique, unique, dict(state.evidence))


def _currency(state: EntryState, at: datetime, policy: PolicyDocument) -> list[str]:
    reasons = []
    if state.review_by is not None and state.review_by <= at:
        reasons.append("review_overdue")
    if state.minor:
        # Minors are re-justified for each deployment: reviewed or authorised within the window.
        latest = max(
            (t for t in (state.last_reviewed_at, state.authorised_at) if t is not None),
            default=None,
        )
        if latest is None or at - latest > policy.source_freshness:
            reasons.append("review_overdue")
    if state.source_status is SourceStatus.RESOLVED:
        reasons.append("source_resolved")
    elif (
        state.source_verified_at is None or at - state.source_verified_at > policy.source_freshness
    ):
        reasons.append("source_not_verified_recently")
    return reasons


def _justification(
    state: EntryState,
    policy: PolicyDocument,
    permitted: Collection[Category] | None,
    authoriser_revoked: bool,
) -> list[str]:
    reasons = []
    if state.authorised_by is not None:
        if state.authorised_by == state.proposed_by:
            reasons.append("authorised_by_proposer")
        if state.authorised_rank is None or not Rank(state.authorised_rank).at_least(
            policy.min_authoriser_rank
        ):
            reasons.append("authoriser_rank_too_low")
        if authoriser_revoked:
            reasons.append("signer_key_revoked")
    if state.category is not None and (
        state.category not in policy.permitted_categories
        or (permitted is not None and state.category not in permitted)
    ):
        reasons.append("category_not_permitted")
    if not (state.rationale and state.rationale.strip()):
        reasons.append("missing_rationale")
    if (state.vulnerable or state.minor) and not (
        state.safeguarding_rationale and state.safeguarding_rationale.strip()
    ):
        reasons.append("missing_safeguarding_rationale")
    return reasons
