"""The one rule: every reason code, and how reasons decide listed, current and justified."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from governance.domain.facts import EntryState
from governance.domain.justification import assess
from governance.domain.policy import DEFAULT, PolicyDocument
from governance.domain.vocabulary import Category, Rank, SourceStatus, Status

T = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
GOOD = EntryState(
    status=Status.ACTIVE,
    category=Category.WANTED_ON_WARRANT,
    proposed_by="PC-1",
    proposed_at=T - timedelta(days=10),
    rationale="Necessary and proportionate.",
    authorised_by="SUPT-1",
    authorised_rank="superintendent",
    authorised_at=T - timedelta(days=9),
    review_by=T + timedelta(days=30),
    expires_at=T + timedelta(days=90),
    source_status=SourceStatus.LIVE,
    source_verified_at=T - timedelta(hours=2),
)


def test_a_fresh_authorised_entry_in_a_permitted_category_is_justified() -> None:
    verdict = assess(GOOD, T, DEFAULT, {Category.WANTED_ON_WARRANT})
    assert (verdict.listed, verdict.current, verdict.justified, verdict.reasons) == (
        True,
        True,
        True,
        (),
    )


@pytest.mark.parametrize(
    ("change", "reason", "listed", "current"),
    [
        ({"status": None}, "not_proposed", False, False),
        ({"status": Status.PROPOSED}, "not_authorised", False, False),
        ({"status": Status.REMOVED}, "removed", False, False),
        ({"status": Status.EXPIRED}, "expired", False, False),
        ({"expires_at": T}, "expired", False, False),
        ({"review_by": T}, "review_overdue", True, False),
        (
            {"source_verified_at": T - timedelta(hours=24, microseconds=1)},
            "source_not_verified_recently",
            True,
            False,
        ),
        (
            {"source_verified_at": None, "source_status": None},
            "source_not_verified_recently",
            True,
            False,
        ),
        ({"source_status": SourceStatus.RESOLVED}, "source_resolved", True, False),
        ({"authorised_by": "PC-1"}, "authorised_by_proposer", True, True),
        ({"authorised_rank": "inspector"}, "authoriser_rank_too_low", True, True),
        ({"category": Category.MISSING_PERSON}, "category_not_permitted", True, True),
        ({"rationale": " "}, "missing_rationale", True, True),
        ({"vulnerable": True}, "missing_safeguarding_rationale", True, True),
    ],
)
def test_each_reason_code_and_what_it_means_for_the_verdict(
    change: dict[str, object], reason: str, listed: bool, current: bool
) -> None:
    verdict = assess(replace(GOOD, **change), T, DEFAULT, {Category.WANTED_ON_WARRANT})  # type: ignore[arg-type]
    assert reason in verdict.reasons
    assert (verdict.listed, verdict.current, verdict.justified) == (listed, current, False)


def test_a_revoked_authoriser_is_signer_key_revoked() -> None:
    verdict = assess(GOOD, T, DEFAULT, None, authoriser_revoked=True)
    assert verdict.reasons == ("signer_key_revoked",)


def test_the_source_check_is_fresh_at_exactly_the_window_boundary() -> None:
    verdict = assess(replace(GOOD, source_verified_at=T - timedelta(hours=24)), T, DEFAULT)
    assert verdict.justified


def test_a_minor_must_be_re_justified_for_each_deployment() -> None:
    minor = replace(GOOD, minor=True, safeguarding_rationale="Safeguarding plan agreed.")
    assert "review_overdue" in assess(minor, T, DEFAULT).reasons
    recent = replace(minor, last_reviewed_at=T - timedelta(hours=3))
    assert assess(recent, T, DEFAULT).justified


def test_the_policy_in_force_decides_rank_and_categories() -> None:
    strict = PolicyDocument(
        min_authoriser_rank=Rank.CHIEF_SUPERINTENDENT,
        permitted_categories=(Category.MISSING_PERSON,),
        max_review_days={Category.MISSING_PERSON: 7},
    )
    assert set(assess(GOOD, T, strict).reasons) == {
        "authoriser_rank_too_low",
        "category_not_permitted",
    }
