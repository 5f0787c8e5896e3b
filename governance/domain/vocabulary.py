"""The closed vocabularies of the domain: ranks, roles, categories, statuses and reasons.

Values are the exact strings of the CLI contract (``cli.md``). Categories are a closed list with no
"intelligence interest" catch-all (Bridges v South Wales Police, domain.md section a).
"""

from __future__ import annotations

from enum import StrEnum


class Rank(StrEnum):
    """Police ranks, lowest first; comparisons follow seniority."""

    CONSTABLE = "constable"
    SERGEANT = "sergeant"
    INSPECTOR = "inspector"
    CHIEF_INSPECTOR = "chief_inspector"
    SUPERINTENDENT = "superintendent"
    CHIEF_SUPERINTENDENT = "chief_superintendent"
    COMMANDER = "commander"
    DEPUTY_ASSISTANT_COMMISSIONER = "deputy_assistant_commissioner"
    ASSISTANT_COMMISSIONER = "assistant_commissioner"

    @property
    def seniority(self) -> int:
        """Position in the rank order, 0 for constable."""
        return _SENIORITY[self]

    def at_least(self, other: Rank) -> bool:
        """True when this rank is ``other`` or more senior."""
        return self.seniority >= other.seniority


_SENIORITY = {rank: index for index, rank in enumerate(Rank)}


class Role(StrEnum):
    """What an officer may do in the system."""

    ADMIN = "admin"
    CUSTODIAN = "custodian"
    AUTHORISER = "authoriser"
    REVIEWER = "reviewer"
    LEGAL = "legal"
    SCHEDULER = "scheduler"


class Category(StrEnum):
    """Why a person may be on a watchlist (College of Policing APP categories)."""

    WANTED_ON_WARRANT = "wanted_on_warrant"
    SUSPECT = "suspect"
    UNLAWFULLY_AT_LARGE = "unlawfully_at_large"
    COURT_ORDER_BREACH = "court_order_breach"
    MISSING_PERSON = "missing_person"
    VULNERABLE_AT_RISK = "vulnerable_at_risk"
    RISK_TO_SELF_OR_OTHERS = "risk_to_self_or_others"


class Status(StrEnum):
    """Lifecycle status of an entry."""

    PROPOSED = "proposed"
    ACTIVE = "active"
    EXPIRED = "expired"
    REMOVED = "removed"


class SourceStatus(StrEnum):
    """Status of the source record (warrant, missing-person report) as checked by a custodian."""

    LIVE = "live"
    RESOLVED = "resolved"


class ReviewOutcome(StrEnum):
    """Result of a periodic review."""

    RETAIN = "retain"
    REMOVE = "remove"


class RemovalReason(StrEnum):
    """Closed list of reasons an entry leaves the watchlist (domain.md b5)."""

    ARRESTED_OR_LOCATED = "arrested_or_located"
    WARRANT_EXECUTED_OR_WITHDRAWN = "warrant_executed_or_withdrawn"
    CASE_CLOSED = "case_closed"
    ORDER_EXPIRED = "order_expired"
    DECEASED = "deceased"
    INACCURATE = "inaccurate"
    ERASURE_UPHELD = "erasure_upheld"
    AUTHORISATION_WITHDRAWN = "authorisation_withdrawn"
    NO_LONGER_NECESSARY = "no_longer_necessary"


def choices(enum: type[StrEnum]) -> str:
    """The allowed values of ``enum`` as a comma-separated list, for error messages."""
    return ", ".join(member.value for member in enum)
