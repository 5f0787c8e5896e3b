"""A live facial recognition deployment: authorised, compiled, started, ended.

The compiled record is the frozen, image-free manifest (entry ids and versions) with the store
position it was computed at (its basis), so that a deployment can later be reconstructed exactly as
the system knew it then, and compared with what is known now.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from eventsourcing.domain import AggregateCreated, event

from governance.domain.aggregate import Governed
from governance.domain.policy import PolicyDocument
from governance.domain.vocabulary import Category
from governance.errors import InvalidInput, RuleViolation
from governance.times import format_instant


class UseCase(StrEnum):
    """Why the location was chosen (Met LFR use cases)."""

    HOTSPOT = "hotspot"
    PROTECTIVE_SECURITY = "protective_security"
    INTELLIGENCE_LED = "intelligence_led"


class Deployment(Governed):
    """One deployment of live facial recognition against a compiled watchlist."""

    TOPIC = "watchlist:Deployment"

    class Authorised(Governed.Event, AggregateCreated):
        """An authorising officer approved the deployment: where, why, who may be sought, when."""

        TOPIC = "watchlist:Deployment.Authorised"
        location: str
        location_reason: str
        objective: str
        use_case: str
        categories: list[str]
        planned_start: datetime
        planned_end: datetime
        rank: str

    @event(Authorised)
    def __init__(
        self,
        actor: str,
        effective_at: datetime,
        location: str,
        location_reason: str,
        objective: str,
        use_case: str,
        categories: list[str],
        planned_start: datetime,
        planned_end: datetime,
        rank: str,
    ) -> None:
        self.location = location
        self.location_reason = location_reason
        self.objective = objective
        self.use_case = UseCase(use_case)
        self.categories = tuple(Category(c) for c in categories)
        self.planned_start = planned_start
        self.planned_end = planned_end
        self.authorised_by = actor
        self.authorised_rank = rank
        self.authorised_at = effective_at
        self.compilation: dict[str, Any] | None = None
        self.compiled_at: datetime | None = None
        self.compiled_by: str | None = None
        self.started_at: datetime | None = None
        self.ended_at: datetime | None = None

    def compile(self, officer_id: str, now: datetime, compilation: dict[str, Any]) -> None:
        """Record the gate's result: the manifest, the exclusions and the basis position."""
        if self.started_at is not None:
            raise RuleViolation("status: the deployment has started; its watchlist is frozen")
        if now >= self.planned_end:
            raise RuleViolation("planned_end: the deployment's planned window has passed")
        self._compile(actor=officer_id, effective_at=now, **compilation)

    @event("Compiled", topic="watchlist:Deployment.Compiled")
    def _compile(
        self,
        actor: str,
        effective_at: datetime,
        basis: int,
        judged_at: datetime,
        policy_version: int,
        manifest: list[dict[str, Any]],
        manifest_sha256: str,
        excluded: list[dict[str, Any]],
        size_warning: bool,
    ) -> None:
        self.compilation = {
            "basis": basis,
            "judged_at": judged_at,
            "policy_version": policy_version,
            "manifest": manifest,
            "manifest_sha256": manifest_sha256,
            "excluded": excluded,
            "size_warning": size_warning,
        }
        self.compiled_at = effective_at
        self.compiled_by = actor

    def start(self, officer_id: str, now: datetime, policy: PolicyDocument) -> None:
        """Go live, if the compiled watchlist is fresh and the planned window has not passed."""
        if self.started_at is not None:
            raise RuleViolation("status: the deployment has already started")
        if self.compilation is None or self.compiled_at is None:
            raise RuleViolation("compile: the deployment's watchlist has not been compiled")
        if now - self.compiled_at > policy.source_freshness:
            raise RuleViolation(
                f"compile: the watchlist was compiled more than {policy.source_freshness_hours} hours ago; "
                "compile it again"
            )
        if now >= self.planned_end:
            raise RuleViolation("planned_end: the deployment's planned window has passed")
        self._start(actor=officer_id, effective_at=now)

    @event("Started", topic="watchlist:Deployment.Started")
    def _start(self, actor: str, effective_at: datetime) -> None:
        self.started_at = effective_at

    def end(self, officer_id: str, now: datetime) -> None:
        """Stop the deployment."""
        if self.started_at is None:
            raise RuleViolation("status: the deployment has not started")
        if self.ended_at is not None:
            raise RuleViolation("status: the deployment has already ended")
        self._end(actor=officer_id, effective_at=now)

    @event("Ended", topic="watchlist:Deployment.Ended")
    def _end(self, actor: str, effective_at: datetime) -> None:
        self.ended_at = effective_at

    @property
    def go_live(self) -> datetime:
        """The instant its watchlist is judged at: the actual start, else the planned start."""
        return self.started_at or self.planned_start

    @property
    def status(self) -> str:
        if self.ended_at is not None:
            return "ended"
        if self.started_at is not None:
            return "started"
        return "compiled" if self.compilation is not None else "authorised"


def check_plan(
    location: str,
    location_reason: str,
    objective: str,
    start: datetime,
    end: datetime,
    now: datetime,
) -> None:
    """The deployment's own fields: a place, why people sought are expected there, a window."""
    problems = []
    for field, value in (
        ("location", location),
        ("location-reason", location_reason),
        ("objective", objective),
    ):
        if not value.strip():
            problems.append(f"{field}: is required")
    if end <= start:
        problems.append("end: must be after start")
    if end <= now:
        problems.append("end: the planned window is already over")
    if problems:
        raise InvalidInput(problems)


def describe(deployment: Deployment) -> dict[str, Any]:
    """The deployment record as plain data (no personal data)."""
    record = {
        "deployment_id": str(deployment.id),
        "status": deployment.status,
        "location": deployment.location,
        "location_reason": deployment.location_reason,
        "objective": deployment.objective,
        "use_case": deployment.use_case.value,
        "categories": [c.value for c in deployment.categories],
        "planned_start": format_instant(deployment.planned_start),
        "planned_end": format_instant(deployment.planned_end),
        "authorised_by": deployment.authorised_by,
        "authorised_rank": deployment.authorised_rank,
        "compiled_at": None
        if deployment.compiled_at is None
        else format_instant(deployment.compiled_at),
        "started_at": None
        if deployment.started_at is None
        else format_instant(deployment.started_at),
        "ended_at": None if deployment.ended_at is None else format_instant(deployment.ended_at),
    }
    if deployment.compilation is not None:
        compiled = deployment.compilation
        record.update(
            basis=compiled["basis"],
            judged_at=format_instant(compiled["judged_at"]),
            policy_version=compiled["policy_version"],
            manifest=compiled["manifest"],
            manifest_sha256=compiled["manifest_sha256"],
            excluded=compiled["excluded"],
            size_warning=compiled["size_warning"],
        )
    return record
