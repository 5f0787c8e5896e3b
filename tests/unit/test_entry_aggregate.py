"""The Entry aggregate: given its events, when a command is called, then new events or an error."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest

from governance.domain.entry import Entry
from governance.domain.policy import DEFAULT, PolicyDocument
from governance.domain.proposal import EntryProposal
from governance.domain.registry import OfficerState
from governance.domain.vocabulary import (
    Category,
    Rank,
    RemovalReason,
    ReviewOutcome,
    Role,
    SourceStatus,
    Status,
)
from governance.errors import InvalidInput, PermissionDenied, RuleViolation

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def officer(officer_id: str, rank: Rank = Rank.SUPERINTENDENT) -> OfficerState:
    return OfficerState(
        officer_id, officer_id, rank, frozenset({Role.AUTHORISER}), "k", "p", False, None, ()
    )


SEALED = {"alg": "AES-256-GCM", "key_ref": "r"}
ADULT = {"name": "Jane Example", "date_of_birth": date(1990, 4, 1), "subject_ref": "NOMINAL-1"}
CHILD = {"name": "A Child", "date_of_birth": date(2015, 1, 1), "subject_ref": "NOMINAL-2"}
SAFEGUARDING = "Safeguarding plan agreed with social care."


def a_proposal(**changes: Any) -> EntryProposal:
    """A valid proposal at NOW, with changes applied."""
    fields: dict[str, Any] = {
        "subject": ADULT,
        "category": Category.WANTED_ON_WARRANT,
        "source_record_ref": "W-1",
        "offence_ref": None,
        "objective": "Objective",
        "rationale": "Rationale for inclusion",
        "image": {
            "legal_basis": "custody image",
            "source": "custody",
            "captured_on": date(2026, 1, 15),
        },
        "vulnerable": False,
        "safeguarding_rationale": None,
        "review_by": NOW + timedelta(days=60),
        "expires_at": NOW + timedelta(days=180),
    }
    return EntryProposal.model_validate({**fields, **changes})


def propose(proposal: EntryProposal, policy: PolicyDocument = DEFAULT) -> Entry:
    return Entry.propose(proposal, SEALED, entry_id=uuid4(), actor="PC-1", now=NOW, policy=policy)


def given_proposed(collect: bool = True, **changes: Any) -> Entry:
    entry = propose(a_proposal(**changes))
    if collect:
        entry.collect_events()
    return entry


def refusal(proposal: EntryProposal, policy: PolicyDocument = DEFAULT) -> list[str]:
    """The problems ``Entry.propose`` names when it refuses ``proposal``."""
    with pytest.raises(InvalidInput) as refused:
        propose(proposal, policy)
    return refused.value.problems


def given_active() -> Entry:
    entry = given_proposed()
    entry.authorise(officer("SUPT-1"), "Necessary and proportionate.", NOW, DEFAULT)
    entry.collect_events()
    return entry


def new_event_types(entry: Entry) -> list[str]:
    return [type(e).__name__ for e in entry.collect_events()]


class TestPropose:
    def test_a_proposed_entry_is_not_active(self) -> None:
        entry = given_proposed()
        assert entry.status is Status.PROPOSED
        assert entry.proposed_by == "PC-1"
        assert entry.category is Category.WANTED_ON_WARRANT

    def test_records_one_proposed_event_holding_the_sealed_subject_and_the_proposal(self) -> None:
        entry = propose(a_proposal())
        [event] = entry.collect_events()
        assert isinstance(event, Entry.Proposed)
        assert (event.actor, event.effective_at, event.subject) == ("PC-1", NOW, SEALED)
        assert (event.category, event.source_record_ref, event.minor) == (
            "wanted_on_warrant",
            "W-1",
            False,
        )
        assert event.image == {
            "legal_basis": "custody image",
            "source": "custody",
            "captured_on": "2026-01-15",
            "quality_score": None,
        }
        assert entry.subject == SEALED

    def test_records_the_dates_in_the_clocks_zone(self) -> None:
        review_by = datetime(2026, 12, 1, 11, 0, tzinfo=timezone(timedelta(hours=2)))
        [event] = propose(a_proposal(review_by=review_by)).collect_events()
        assert event.review_by == review_by
        assert event.review_by.tzinfo is UTC

    def test_records_a_subject_under_18_as_a_minor(self) -> None:
        entry = propose(
            a_proposal(
                subject=CHILD,
                safeguarding_rationale=SAFEGUARDING,
                review_by=NOW + timedelta(days=7),
            )
        )
        assert entry.state.minor
        assert entry.max_review_interval(DEFAULT) == timedelta(days=7)

    def test_refuses_a_date_of_birth_in_the_future(self) -> None:
        born = {**ADULT, "date_of_birth": date(2027, 1, 1)}
        problems = refusal(a_proposal(subject=born, safeguarding_rationale=SAFEGUARDING))
        assert "subject.date_of_birth: is in the future" in problems

    def test_refuses_a_minor_without_a_safeguarding_rationale(self) -> None:
        problems = refusal(a_proposal(subject=CHILD, review_by=NOW + timedelta(days=7)))
        assert problems == [
            "safeguarding_rationale: the subject is under 18 (from date_of_birth); "
            "a minor needs a recorded safeguarding rationale"
        ]

    def test_refuses_an_image_captured_in_the_future(self) -> None:
        image = {
            "legal_basis": "custody image",
            "source": "custody",
            "captured_on": date(2026, 12, 1),
        }
        assert refusal(a_proposal(image=image)) == ["image.captured_on: is in the future"]

    def test_refuses_a_category_the_policy_in_force_does_not_permit(self) -> None:
        policy = DEFAULT.model_copy(update={"permitted_categories": (Category.SUSPECT,)})
        assert refusal(a_proposal(), policy) == [
            "category: wanted_on_warrant is not permitted by the policy in force"
        ]

    def test_refuses_a_review_date_that_has_passed(self) -> None:
        problems = refusal(a_proposal(review_by=NOW - timedelta(minutes=1)))
        assert problems == ["review_by: must be in the future"]

    def test_refuses_a_review_date_beyond_the_categorys_interval(self) -> None:
        problems = refusal(a_proposal(review_by=NOW + timedelta(days=91)))
        assert problems == ["review_by: must be within 90 days for this entry"]

    def test_refuses_an_expiry_beyond_the_longest_lifetime(self) -> None:
        days = DEFAULT.max_entry_lifetime_days
        problems = refusal(a_proposal(expires_at=NOW + timedelta(days=days + 1)))
        assert problems == [f"expires_at: must be within {days} days"]

    def test_names_every_problem_at_once_one_line_per_field(self) -> None:
        image = {
            "legal_basis": "custody image",
            "source": "custody",
            "captured_on": date(2027, 1, 1),
        }
        policy = DEFAULT.model_copy(update={"permitted_categories": (Category.SUSPECT,)})
        problems = refusal(a_proposal(subject=CHILD, image=image), policy)
        assert problems == [
            "safeguarding_rationale: the subject is under 18 (from date_of_birth); "
            "a minor needs a recorded safeguarding rationale",
            "image.captured_on: is in the future",
            "category: wanted_on_warrant is not permitted by the policy in force",
            "review_by: must be within 7 days for this entry",
        ]


class TestAuthorise:
    def test_an_authoriser_of_sufficient_rank_activates_the_entry(self) -> None:
        entry = given_proposed()
        entry.authorise(officer("SUPT-1"), "Necessary and proportionate.", NOW, DEFAULT)
        assert new_event_types(entry) == ["Authorised"]
        assert entry.status is Status.ACTIVE
        assert entry.state.authorised_by == "SUPT-1"
        assert entry.state.authorised_rank == "superintendent"

    def test_refuses_the_officer_who_proposed_the_entry(self) -> None:
        entry = given_proposed()
        with pytest.raises(PermissionDenied, match="authorised_by_proposer"):
            entry.authorise(officer("PC-1"), "Necessary and proportionate.", NOW, DEFAULT)
        assert new_event_types(entry) == []

    def test_refuses_a_rank_below_superintendent(self) -> None:
        entry = given_proposed()
        with pytest.raises(PermissionDenied, match="authoriser_rank_too_low"):
            entry.authorise(officer("INSP-1", Rank.CHIEF_INSPECTOR), "Necessary.", NOW, DEFAULT)
        assert entry.status is Status.PROPOSED

    def test_refuses_an_entry_that_is_already_active(self) -> None:
        entry = given_active()
        with pytest.raises(RuleViolation, match="active"):
            entry.authorise(officer("SUPT-2"), "Again.", NOW, DEFAULT)

    def test_refuses_a_blank_rationale(self) -> None:
        with pytest.raises(InvalidInput, match="rationale"):
            given_proposed().authorise(officer("SUPT-1"), "   ", NOW, DEFAULT)

    def test_refuses_an_entry_whose_expiry_has_passed(self) -> None:
        entry = given_proposed(
            review_by=NOW + timedelta(days=1), expires_at=NOW + timedelta(days=2)
        )
        with pytest.raises(RuleViolation, match="expired"):
            entry.authorise(officer("SUPT-1"), "Necessary.", NOW + timedelta(days=3), DEFAULT)


class TestSourceChecks:
    def test_a_source_check_records_status_time_and_officer(self) -> None:
        entry = given_active()
        at = NOW - timedelta(hours=1)
        entry.verify_source("PC-2", SourceStatus.RESOLVED, at, "warrant executed")
        assert new_event_types(entry) == ["SourceVerified"]
        assert (
            entry.state.source_status,
            entry.state.source_verified_at,
            entry.state.source_verified_by,
        ) == (
            SourceStatus.RESOLVED,
            at,
            "PC-2",
        )

    def test_a_removed_entry_takes_no_more_source_checks(self) -> None:
        entry = given_active()
        entry.remove("PC-1", RemovalReason.CASE_CLOSED, NOW, None, None, None)
        with pytest.raises(RuleViolation, match="removed"):
            entry.verify_source("PC-1", SourceStatus.LIVE, NOW, None)


class TestReview:
    def test_retaining_sets_the_next_review_within_the_category_maximum(self) -> None:
        entry = given_active()
        entry.review("INSP-3", ReviewOutcome.RETAIN, "Still wanted.", None, None, NOW, DEFAULT)
        assert new_event_types(entry) == ["Reviewed"]
        assert entry.review_by == NOW + timedelta(days=90)
        assert entry.state.extension_count == 0

    def test_extending_the_expiry_counts_as_an_extension(self) -> None:
        entry = given_active()
        entry.review(
            "INSP-3",
            ReviewOutcome.RETAIN,
            "Still wanted.",
            None,
            NOW + timedelta(days=300),
            NOW,
            DEFAULT,
        )
        assert entry.state.extension_count == 1
        assert entry.expires_at == NOW + timedelta(days=300)

    def test_a_vulnerable_persons_review_is_due_within_seven_days(self) -> None:
        entry = given_proposed(
            vulnerable=True,
            safeguarding_rationale="Safeguarding rationale text",
            review_by=NOW + timedelta(days=7),
        )
        entry.authorise(officer("SUPT-1"), "Necessary.", NOW, DEFAULT)
        with pytest.raises(InvalidInput, match="within 7 days"):
            entry.review(
                "INSP-3", ReviewOutcome.RETAIN, "Keep.", NOW + timedelta(days=8), None, NOW, DEFAULT
            )

    def test_removing_on_review_records_no_longer_necessary(self) -> None:
        entry = given_active()
        entry.review("INSP-3", ReviewOutcome.REMOVE, "No longer needed.", None, None, NOW, DEFAULT)
        assert entry.status is Status.REMOVED
        assert entry.state.removal_reason is RemovalReason.NO_LONGER_NECESSARY

    def test_refuses_the_proposer_as_reviewer(self) -> None:
        with pytest.raises(PermissionDenied, match="proposed"):
            given_active().review("PC-1", ReviewOutcome.RETAIN, "Keep.", None, None, NOW, DEFAULT)

    def test_the_proposer_may_review_where_the_policy_allows_it(self) -> None:
        entry = given_active()
        lenient = DEFAULT.model_copy(update={"reviewer_may_be_proposer": True})
        entry.review("PC-1", ReviewOutcome.RETAIN, "Keep.", None, None, NOW, lenient)
        assert new_event_types(entry) == ["Reviewed"]
        assert entry.state.last_reviewed_at == NOW

    def test_refuses_a_review_of_a_proposed_entry(self) -> None:
        with pytest.raises(RuleViolation, match="proposed"):
            given_proposed().review(
                "INSP-3", ReviewOutcome.RETAIN, "Keep.", None, None, NOW, DEFAULT
            )


class TestRemove:
    def test_removal_records_the_reason_and_effective_time(self) -> None:
        entry = given_active()
        at = NOW - timedelta(days=2)
        entry.remove("PC-1", RemovalReason.WARRANT_EXECUTED_OR_WITHDRAWN, at, None, "late", "ref")
        assert new_event_types(entry) == ["Removed"]
        assert (entry.status, entry.state.removed_at) == (Status.REMOVED, at)

    def test_refuses_removing_twice(self) -> None:
        entry = given_active()
        entry.remove("PC-1", RemovalReason.CASE_CLOSED, NOW, None, None, None)
        with pytest.raises(RuleViolation, match="removed"):
            entry.remove("PC-1", RemovalReason.CASE_CLOSED, NOW, None, None, None)


class TestReplay:
    def test_replaying_the_events_rebuilds_the_same_state(self) -> None:
        entry = given_proposed(collect=False)
        events = list(entry.collect_events())
        entry.authorise(officer("SUPT-1"), "Necessary.", NOW, DEFAULT)
        entry.review("INSP-3", ReviewOutcome.RETAIN, "Keep.", None, None, NOW, DEFAULT)
        events += entry.collect_events()
        rebuilt = None
        for event in events:
            rebuilt = event.mutate(rebuilt)
        assert rebuilt is not None
        assert rebuilt == entry
