"""The fold: facts in force as known at a version, applied in effective-time order up to T."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from governance.domain.facts import Fact, fold, resolve
from governance.domain.vocabulary import RemovalReason, SourceStatus, Status

T0 = datetime(2026, 11, 1, tzinfo=UTC)
US = timedelta(microseconds=1)


def proposed(at: datetime = T0) -> Fact:
    return Fact(1, "Proposed", at, "PC-1", {
        "category": "wanted_on_warrant", "rationale": "Rationale", "vulnerable": False, "minor": False,
        "safeguarding_rationale": None, "review_by": T0 + timedelta(days=60), "expires_at": T0 + timedelta(days=180),
    })  # fmt: skip


def fact(version: int, kind: str, at: datetime, **data: Any) -> Fact:
    return Fact(version, kind, at, "OFFICER", data)


def state(facts: list[Fact], at: datetime, upto: int | None = None) -> Any:
    return fold(resolve(facts, upto), at)


class TestOrdering:
    def test_a_removal_effective_exactly_at_t_applies_at_t_but_not_a_microsecond_before(
        self,
    ) -> None:
        t = T0 + timedelta(days=3)
        facts = [
            proposed(),
            fact(2, "Authorised", T0, rank="superintendent"),
            fact(3, "Removed", t, reason="case_closed"),
        ]
        assert state(facts, t).status is Status.REMOVED
        assert state(facts, t - US).status is Status.ACTIVE
        assert state(facts, t + US).status is Status.REMOVED

    def test_facts_with_the_same_effective_time_apply_in_the_order_recorded(self) -> None:
        t = T0 + timedelta(days=1)
        facts = [
            proposed(),
            fact(2, "SourceVerified", t, status="live"),
            fact(3, "SourceVerified", t, status="resolved"),
        ]
        assert state(facts, t).source_status is SourceStatus.RESOLVED
        swapped = [
            proposed(),
            fact(2, "SourceVerified", t, status="resolved"),
            fact(3, "SourceVerified", t, status="live"),
        ]
        assert state(swapped, t).source_status is SourceStatus.LIVE

    def test_a_fact_that_arrives_late_but_is_effective_earlier_takes_its_place_in_time(
        self,
    ) -> None:
        facts = [
            proposed(),
            fact(2, "Authorised", T0, rank="superintendent"),
            fact(3, "SourceVerified", T0 + timedelta(days=5), status="live"),
            fact(4, "Removed", T0 + timedelta(days=2), reason="arrested_or_located"),
        ]
        assert state(facts, T0 + timedelta(days=3)).status is Status.REMOVED
        assert state(facts, T0 + timedelta(days=3), upto=3).status is Status.ACTIVE

    def test_before_the_proposal_there_is_no_entry(self) -> None:
        assert state([proposed()], T0 - US).status is None

    def test_a_removal_dated_before_the_proposal_still_removes_the_entry(self) -> None:
        facts = [proposed(), fact(2, "Removed", T0 - timedelta(days=1), reason="case_closed")]
        assert state(facts, T0).status is Status.REMOVED

    def test_an_entry_is_expired_from_its_expiry_instant(self) -> None:
        assert state([proposed()], T0 + timedelta(days=180)).status is Status.EXPIRED
        assert state([proposed()], T0 + timedelta(days=180) - US).status is Status.PROPOSED


class TestCorrections:
    def test_corrections_of_corrections_a_then_b_then_back_to_a(self) -> None:
        a, b = T0 + timedelta(days=2), T0 + timedelta(days=4)
        facts = [
            proposed(),
            fact(2, "Removed", a, reason="case_closed"),
            fact(3, "Corrected", b, supersedes=2, changes={}, reason="wrong date"),
            fact(4, "Corrected", a, supersedes=3, changes={}, reason="first date was right"),
        ]
        at = T0 + timedelta(days=3)
        assert state(facts, at, upto=2).status is Status.REMOVED
        assert state(facts, at, upto=3).status is Status.PROPOSED
        assert state(facts, at, upto=4).status is Status.REMOVED
        assert dict(state(facts, at, upto=4).evidence)["removal"] == (2, 3, 4)

    def test_a_correction_can_change_a_value_as_well_as_the_time(self) -> None:
        facts = [proposed(), fact(2, "Removed", T0, reason="case_closed"),
                 fact(3, "Corrected", T0, supersedes=2, changes={"reason": "deceased"}, reason="x")]  # fmt: skip
        assert state(facts, T0).removal_reason is RemovalReason.DECEASED

    def test_a_retraction_withdraws_a_fact_from_the_point_it_is_known(self) -> None:
        facts = [proposed(), fact(2, "Authorised", T0, rank="superintendent"),
                 fact(3, "Retracted", T0 + timedelta(days=9), supersedes=2, reason="authorised in error")]  # fmt: skip
        at = T0 + timedelta(days=1)
        assert state(facts, at, upto=2).status is Status.ACTIVE
        assert state(facts, at, upto=3).status is Status.PROPOSED

    def test_a_very_late_fact_counts_only_once_a_second_officer_confirms_it(self) -> None:
        facts = [proposed(), fact(2, "Removed", T0, reason="case_closed", needs_confirmation=True)]
        assert state(facts, T0).status is Status.PROPOSED
        assert state(facts, T0).pending == (2,)
        confirmed = [
            *facts,
            fact(3, "Confirmed", T0 + timedelta(days=100), confirms=2, note="checked"),
        ]
        assert state(confirmed, T0).status is Status.REMOVED
        assert state(confirmed, T0).pending == ()
        assert state(confirmed, T0, upto=2).status is Status.PROPOSED
