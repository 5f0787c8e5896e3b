"""The rules an entry's commands check: a proposal against the clock, dates in range, text present."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from governance.domain import defaults
from governance.domain.policy import PolicyDocument
from governance.errors import InvalidInput
from governance.times import age_in_years

if TYPE_CHECKING:
    from governance.domain.proposal import EntryProposal


def check_proposal(proposal: EntryProposal, now: datetime, policy: PolicyDocument) -> bool:
    """Rules of a proposal that depend on the clock; returns whether the subject is a minor.

    Raises ``InvalidInput`` naming every problem at once, one ``field: message`` line each.
    """
    problems = []
    born = proposal.subject.date_of_birth
    minor = age_in_years(born, now) < defaults.ADULT_AGE
    if born > now.date():
        problems.append("subject.date_of_birth: is in the future")
    if minor and proposal.safeguarding_rationale is None:
        problems.append(
            "safeguarding_rationale: the subject is under 18 (from date_of_birth); "
            "a minor needs a recorded safeguarding rationale"
        )
    if proposal.image.captured_on > now.date():
        problems.append("image.captured_on: is in the future")
    if proposal.category not in policy.permitted_categories:
        problems.append(
            f"category: {proposal.category.value} is not permitted by the policy in force"
        )
    interval = policy.review_interval(proposal.category, proposal.vulnerable or minor)
    try:
        check_dates(proposal.review_by, proposal.expires_at, now, interval, policy)
    except InvalidInput as error:
        problems += error.problems
    if problems:
        raise InvalidInput(problems)
    return minor


def check_dates(
    review_by: datetime,
    expires_at: datetime,
    now: datetime,
    interval: timedelta,
    policy: PolicyDocument,
) -> None:
    """review_by and expires_at must be in the future, in order, and within their maximums."""
    problems = []
    if review_by <= now:
        problems.append("review_by: must be in the future")
    elif review_by - now > interval:
        problems.append(f"review_by: must be within {interval.days} days for this entry")
    if expires_at <= now:
        problems.append("expires_at: must be in the future")
    elif expires_at - now > policy.max_entry_lifetime:
        problems.append(f"expires_at: must be within {policy.max_entry_lifetime_days} days")
    if review_by > expires_at:
        problems.append("review_by: must not be later than expires_at")
    if problems:
        raise InvalidInput(problems)


def check_text(field: str, value: str) -> None:
    """A free-text justification must be present."""
    if not value or not value.strip():
        raise InvalidInput(f"{field}: is required and cannot be blank (missing_rationale)")
