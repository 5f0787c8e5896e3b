"""The write-time rules that a stored event must still satisfy when it is verified.

A command checks these before it writes (``Entry`` commands, ``domain.backdating``, the services),
but an insider holding a valid key can sign an event that no command would have written. So the
store's verifier (``governance.integrity.verifier``) and the offline verifier
(``governance.offline.events``) check them again on every event, from what they know at the
event's place in the log: the signer's rank from the signed officer registry (never the rank an
event claims), the policy version in force, and the entry's earlier facts.

Plain values only (standard library and the vocabulary), so the offline verifier can share it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from governance.domain.vocabulary import Rank

ENTRY_PREFIX = "watchlist:Entry."
ENTRY_PROPOSED = "watchlist:Entry.Proposed"
ENTRY_AUTHORISED = "watchlist:Entry.Authorised"
ENTRY_REMOVED = "watchlist:Entry.Removed"
ENTRY_SOURCE_VERIFIED = "watchlist:Entry.SourceVerified"
ENTRY_CONFIRMED = "watchlist:Entry.Confirmed"
DEPLOYMENT_AUTHORISED = "watchlist:Deployment.Authorised"
POLICY_PUBLISHED = "watchlist:PolicyVersion.Published"
#: Events that record the signer's rank and need the policy's minimum authoriser rank.
RANKED = (ENTRY_AUTHORISED, DEPLOYMENT_AUTHORISED)


@dataclass(frozen=True)
class Bounds:
    """The policy fields the re-checked rules read (defaults: the built-in version 0)."""

    min_authoriser_rank: str = Rank.SUPERINTENDENT.value
    max_future_skew_minutes: int = 5
    free_backdating_hours: int = 24
    second_officer_backdating_days: int = 90

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> Bounds:
        """The bounds of a stored policy document (ValueError if a field is malformed)."""
        base = cls()
        values = {f.name: document.get(f.name, getattr(base, f.name)) for f in fields(cls)}
        rank = values["min_authoriser_rank"]
        if rank not in {r.value for r in Rank}:
            raise ValueError(f"the policy's min_authoriser_rank {rank!r} is not a rank")
        for name in ("max_future_skew_minutes", "free_backdating_hours"):
            if type(values[name]) is not int:
                raise ValueError(f"the policy's {name} is not an integer")
        if type(values["second_officer_backdating_days"]) is not int:
            raise ValueError("the policy's second_officer_backdating_days is not an integer")
        return cls(**values)


BUILT_IN = Bounds()


@dataclass(frozen=True)
class Published:
    """A policy version as the verifier knows it: number, effective instant, and its bounds."""

    version: int
    effective_at: datetime
    bounds: Bounds


def bounds_in_force(published: Sequence[Published], at: datetime) -> Bounds:
    """The bounds of the latest-effective version in force at ``at`` (as the write path picks)."""
    candidates = [p for p in published if p.effective_at <= at]
    if not candidates:
        return BUILT_IN
    return max(candidates, key=lambda p: (p.effective_at, p.version)).bounds


@dataclass
class EntryContext:
    """What the re-checked rules need to know of an entry's earlier events."""

    proposer: str | None = None
    #: version -> actor, for each late fact still awaiting a second officer's confirmation.
    pending: dict[int, str] = field(default_factory=dict)

    def follow(self, kind: str, version: int, actor: str, payload: Mapping[str, Any]) -> None:
        """Take one valid event of the entry into account (in stream order)."""
        if kind == ENTRY_PROPOSED:
            self.proposer = actor
        elif kind == ENTRY_REMOVED and payload.get("needs_confirmation") is True:
            self.pending[version] = actor
        elif kind == ENTRY_CONFIRMED:
            self.pending.pop(_int(payload.get("confirms")), None)


def rule_problems(
    kind: str,
    actor: str,
    recorded_at: datetime,
    effective_at: datetime | None,
    payload: Mapping[str, Any],
    registry_rank: str | None,
    bounds: Bounds,
    entry: EntryContext | None,
) -> list[str]:
    """Every write-time rule the event breaks; ``registry_rank`` is the signer's rank in the
    registry at the event's position, ``entry`` what came before in the entry's stream."""
    problems: list[str] = []
    if kind in RANKED:
        problems += _rank_problems(actor, payload.get("rank"), registry_rank, bounds)
    if kind.startswith(ENTRY_PREFIX) and effective_at is not None:
        problems += _time_problems(kind, recorded_at, effective_at, payload, bounds)
    if entry is not None:
        if kind == ENTRY_AUTHORISED and entry.proposer is not None and actor == entry.proposer:
            problems.append(
                f"authorised_by_proposer: {actor} proposed this entry and cannot authorise it"
            )
        if kind == ENTRY_CONFIRMED:
            confirms = _int(payload.get("confirms"))
            recorder = entry.pending.get(confirms)
            if recorder is None:
                problems.append(f"confirms version {confirms}, which was not awaiting confirmation")
            elif recorder == actor:
                problems.append(
                    f"{actor} confirmed the late fact they recorded themselves (version {confirms})"
                )
    return problems


def _rank_problems(
    actor: str, claimed: Any, registry_rank: str | None, bounds: Bounds
) -> list[str]:
    if registry_rank is None:
        return []  # the signer's standing is reported by the signature check
    problems = []
    if claimed != registry_rank:
        problems.append(
            f"rank_claim_mismatch: the event claims rank {claimed!r} but the officer registry "
            f"holds rank {registry_rank} for {actor} at this position"
        )
    if not Rank(registry_rank).at_least(Rank(bounds.min_authoriser_rank)):
        problems.append(
            f"authoriser_rank_too_low: {actor}'s rank {registry_rank} is below the minimum "
            f"{bounds.min_authoriser_rank} of the policy in force"
        )
    return problems


def _time_problems(
    kind: str,
    recorded_at: datetime,
    effective_at: datetime,
    payload: Mapping[str, Any],
    bounds: Bounds,
) -> list[str]:
    if effective_at - recorded_at > timedelta(minutes=bounds.max_future_skew_minutes):
        return [
            f"effective_at is more than {bounds.max_future_skew_minutes} minutes after recorded_at"
        ]
    lag = recorded_at - effective_at
    late = lag > timedelta(hours=bounds.free_backdating_hours)
    very_late = lag > timedelta(days=bounds.second_officer_backdating_days)
    problems = []
    if kind == ENTRY_REMOVED:
        if late and not (
            _text(payload.get("backdate_reason")) and _text(payload.get("source_ref"))
        ):
            problems.append(
                f"backdated more than {bounds.free_backdating_hours} hours without a reason and "
                "a source reference"
            )
        if payload.get("needs_confirmation") is not very_late:
            problems.append(
                f"needs_confirmation is {payload.get('needs_confirmation')!r} for a fact recorded "
                f"{lag} after it took effect (second officer beyond "
                f"{bounds.second_officer_backdating_days} days)"
            )
    elif kind == ENTRY_SOURCE_VERIFIED:
        if very_late:
            problems.append(
                f"a source check backdated more than {bounds.second_officer_backdating_days} days"
            )
        elif late and not _text(payload.get("note")):
            problems.append(
                f"a source check backdated more than {bounds.free_backdating_hours} hours "
                "without a note"
            )
    return problems


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _int(value: Any) -> int:
    return value if type(value) is int else -1
