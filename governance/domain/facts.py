"""An entry's facts and the one fold that turns them into its state at any (T, R).

Every entry event is a fact with an effective time. As known at a point in the store (a version of
the entry's stream, which maps one-to-one onto store positions), some facts are superseded by later
corrections or retractions, and facts recorded very late wait for a second officer's confirmation.
``resolve`` applies those; ``fold`` then applies the surviving facts in effective-time order (ties
by version) up to an instant T. Nothing here reads a clock or a database, so the aggregate, the
projection and the tests all share exactly this logic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from governance.domain.vocabulary import Category, RemovalReason, SourceStatus, Status

#: Facts a correction may change, and which of their fields.
CORRECTABLE: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "SourceVerified": frozenset({"status"}),
        "Removed": frozenset({"reason"}),
        "Reviewed": frozenset({"review_by", "expires_at"}),
    }
)
#: Facts that may be retracted outright.
RETRACTABLE = frozenset({"Authorised", "SourceVerified", "Removed", "Reviewed"})


@dataclass(frozen=True)
class Fact:
    """One recorded event of an entry, as the fold sees it."""

    version: int
    kind: str
    effective_at: datetime
    actor: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Resolved:
    """A fact in force as known at some version: possibly corrected, possibly confirmed."""

    kind: str
    effective_at: datetime
    actor: str
    data: Mapping[str, Any]
    versions: tuple[int, ...]

    @property
    def version(self) -> int:
        """The version of the original fact."""
        return self.versions[0]


@dataclass(frozen=True)
class EntryState:
    """What an entry's facts say at one instant, with the versions each part rests on."""

    status: Status | None = None
    category: Category | None = None
    proposed_by: str | None = None
    proposed_at: datetime | None = None
    rationale: str | None = None
    vulnerable: bool = False
    minor: bool = False
    safeguarding_rationale: str | None = None
    authorised_by: str | None = None
    authorised_rank: str | None = None
    authorised_at: datetime | None = None
    review_by: datetime | None = None
    expires_at: datetime | None = None
    extension_count: int = 0
    last_reviewed_at: datetime | None = None
    source_status: SourceStatus | None = None
    source_verified_at: datetime | None = None
    source_verified_by: str | None = None
    removal_reason: RemovalReason | None = None
    removed_at: datetime | None = None
    removed_by: str | None = None
    pending: tuple[int, ...] = ()
    #: Which fact versions each part of the state rests on, as sorted (name, versions) pairs.
    evidence: tuple[tuple[str, tuple[int, ...]], ...] = ()


def resolve(facts: Iterable[Fact], upto: int | None = None) -> list[Resolved]:
    """The facts in force as known at stream version ``upto`` (default: every fact).

    Corrections replace the fact they supersede; retractions withdraw it; a fact marked
    ``needs_confirmation`` (recorded very late) counts only once a second officer has confirmed it,
    and until then is returned with kind ``Pending``.
    """
    known = sorted((f for f in facts if upto is None or f.version <= upto), key=lambda f: f.version)
    confirmed = {int(f.data["confirms"]): f.version for f in known if f.kind == "Confirmed"}
    live: dict[int, Resolved] = {}
    chains: dict[int, int] = {}  # any version in a fact's chain -> the key of the fact in force
    pending: list[Resolved] = []
    for fact in known:
        if fact.kind == "Confirmed":
            continue
        extra: tuple[int, ...] = ()
        if fact.data.get("needs_confirmation"):
            if fact.version not in confirmed:
                pending.append(
                    Resolved("Pending", fact.effective_at, fact.actor, fact.data, (fact.version,))
                )
                continue
            extra = (confirmed[fact.version],)
        if fact.kind in ("Corrected", "Retracted"):
            key = chains.get(int(fact.data["supersedes"]))
            target = live.pop(key, None) if key is not None else None
            if target is not None and fact.kind == "Corrected":
                merged = {**target.data, **dict(fact.data.get("changes", {}))}
                versions = (*target.versions, fact.version, *extra)
                live[fact.version] = Resolved(
                    target.kind, fact.effective_at, fact.actor, merged, versions
                )
                chains.update(dict.fromkeys(versions, fact.version))
        else:
            live[fact.version] = Resolved(
                fact.kind, fact.effective_at, fact.actor, fact.data, (fact.version, *extra)
            )
            chains.update(dict.fromkeys((fact.version, *extra), fact.version))
    return sorted(live.values(), key=lambda r: (r.effective_at, r.version)) + pending


def fold(
    resolved: Iterable[Resolved], at: datetime | None = None, *, expire: bool = True
) -> EntryState:
    """The entry's state from the resolved facts effective at or before ``at`` (default: all).

    With ``at`` (and ``expire``), an entry whose ``expires_at`` has been reached is expired even
    before a sweep records it.
    """
    steps = timeline(resolved, at)
    if not steps:
        return EntryState(pending=_pending(resolved))
    state = steps[-1][1]
    return lapsed(state, at) if expire and at is not None else state


def lapsed(state: EntryState, at: datetime) -> EntryState:
    """The state with expiry applied: listed past its ``expires_at`` at ``at`` reads as expired."""
    if (
        state.status in (Status.PROPOSED, Status.ACTIVE)
        and state.expires_at is not None
        and at >= state.expires_at
    ):
        return replace(state, status=Status.EXPIRED)
    return state


def timeline(
    resolved: Iterable[Resolved], until: datetime | None = None
) -> list[tuple[datetime, EntryState]]:
    """The entry's state after each instant at which a fact takes effect, in one pass.

    The proposal comes first even when a later-recorded fact is dated before it (a warrant executed
    before the entry was proposed still removes it; such facts take effect at the proposal). Facts
    effective at the same instant apply in the order recorded. Expiry is not derived here.
    """
    facts = list(resolved)
    pending = tuple(f.version for f in facts if f.kind == "Pending")
    proposal = next((f for f in facts if f.kind == "Proposed"), None)
    if proposal is None or (until is not None and proposal.effective_at > until):
        return []
    work: dict[str, Any] = {
        "pending": pending,
        "extension_count": 0,
        "vulnerable": False,
        "minor": False,
    }
    evidence: dict[str, tuple[int, ...]] = {}
    steps: list[tuple[datetime, EntryState]] = []
    ordered = [proposal, *(f for f in facts if f.kind not in ("Pending", "Proposed"))]
    for index, fact in enumerate(ordered):
        if until is not None and fact.effective_at > until:
            break
        _apply(work, fact, evidence)
        when = max(fact.effective_at, proposal.effective_at)
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        if (
            following is None
            or max(following.effective_at, proposal.effective_at) != when
            or (until is not None and following.effective_at > until)
        ):
            steps.append((when, EntryState(**work, evidence=tuple(sorted(evidence.items())))))
    return steps


def _pending(resolved: Iterable[Resolved]) -> tuple[int, ...]:
    return tuple(f.version for f in resolved if f.kind == "Pending")


def _apply(work: dict[str, Any], fact: Resolved, evidence: dict[str, tuple[int, ...]]) -> None:
    """Apply one fact to the working state (a dict of EntryState fields)."""
    data, at, kind = fact.data, fact.effective_at, fact.kind
    if kind == "Proposed":
        evidence["proposed"] = fact.versions
        work.update(
            status=Status.PROPOSED,
            category=Category(data["category"]),
            proposed_by=fact.actor,
            proposed_at=at,
            rationale=data.get("rationale"),
            vulnerable=bool(data.get("vulnerable")),
            minor=bool(data.get("minor")),
            safeguarding_rationale=data.get("safeguarding_rationale"),
            review_by=data["review_by"],
            expires_at=data["expires_at"],
        )
    elif kind == "Authorised":
        evidence["authorised"] = fact.versions
        if work.get("status") is Status.PROPOSED:
            work["status"] = Status.ACTIVE
        work.update(authorised_by=fact.actor, authorised_rank=data.get("rank"), authorised_at=at)
    elif kind == "SourceVerified":
        evidence["source"] = fact.versions
        work.update(
            source_status=SourceStatus(data["status"]),
            source_verified_at=at,
            source_verified_by=fact.actor,
        )
    elif kind == "Reviewed":
        evidence["review"] = fact.versions
        previous = work.get("expires_at")
        if previous is not None and data["expires_at"] > previous:
            work["extension_count"] += 1
        work.update(review_by=data["review_by"], expires_at=data["expires_at"], last_reviewed_at=at)
        if data.get("outcome") == "remove":
            _remove(work, RemovalReason.NO_LONGER_NECESSARY, at, fact, evidence)
    elif kind == "Removed":
        _remove(work, RemovalReason(data["reason"]), at, fact, evidence)
    elif kind == "Expired" and work.get("status") in (Status.PROPOSED, Status.ACTIVE):
        evidence["expired"] = fact.versions
        work["status"] = Status.EXPIRED


def _remove(
    work: dict[str, Any],
    reason: RemovalReason,
    at: datetime,
    fact: Resolved,
    evidence: dict[str, tuple[int, ...]],
) -> None:
    if work.get("status") is Status.REMOVED:
        return
    evidence["removal"] = fact.versions
    work.update(status=Status.REMOVED, removal_reason=reason, removed_at=at, removed_by=fact.actor)
