"""The one judge, over an entry history held in memory: given facts, when judged at (T, R), then a verdict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from governance.domain.facts import EntryState, Fact, resolve, timeline
from governance.domain.judging import Basis, Place, judge
from governance.domain.policy import DEFAULT
from governance.times import to_micros

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ENTRY = "entry-1"


@dataclass
class MemoryHistory:
    """An ``EntryHistory`` of one entry's facts, each recorded at a store position."""

    facts: list[tuple[int, Fact]] = field(default_factory=list)
    revocations: list[tuple[int, str, datetime]] = field(default_factory=list)

    def record(self, kind: str, actor: str, **data: object) -> None:
        position = len(self.facts) + len(self.revocations) + 1
        self.facts.append((position, Fact(len(self.facts) + 1, kind, T0, actor, data)))

    def known(self, known_at: int) -> list[Fact]:
        return [fact for position, fact in self.facts if position <= known_at]

    def states(
        self, entry_ids: Sequence[str], at: datetime, known_at: int
    ) -> dict[str, EntryState]:
        steps = timeline(resolve(self.known(known_at)), at)
        return {ENTRY: steps[-1][1]} if steps and ENTRY in entry_ids else {}

    def versions(self, entry_ids: Sequence[str], known_at: int) -> dict[str, int]:
        known = self.known(known_at)
        return {ENTRY: known[-1].version} if known else {}

    def revoked(self, officer_ids: Sequence[str], at: datetime, known_at: int) -> set[str]:
        return {o for p, o, when in self.revocations if p <= known_at and when <= at} & set(
            officer_ids
        )

    def places(
        self, facts: Sequence[tuple[str, int]], known_at: int
    ) -> dict[tuple[str, int], Place]:
        return {
            (ENTRY, fact.version): Place(
                position, fact.actor, fact.kind, to_micros(T0), to_micros(T0)
            )
            for position, fact in self.facts
            if position <= known_at and (ENTRY, fact.version) in facts
        }


def an_authorised_entry() -> MemoryHistory:
    history = MemoryHistory()
    history.record(
        "Proposed",
        "PC-1",
        category="wanted_on_warrant",
        rationale="Necessary and proportionate.",
        review_by=T0 + timedelta(days=60),
        expires_at=T0 + timedelta(days=180),
    )
    history.record("Authorised", "SUPT-1", rank="superintendent")
    history.record("SourceVerified", "PC-1", status="live")
    return history


def on(at: datetime, known_at: int) -> Basis:
    return Basis(at, known_at, 0, DEFAULT, None)


class TestJudge:
    def test_finds_an_authorised_entry_with_a_fresh_source_justified(self) -> None:
        verdict = judge(an_authorised_entry(), [ENTRY], on(T0, 3))[ENTRY]
        assert verdict.assessment.justified, verdict.assessment.reasons
        assert verdict.version == 3
        assert [e["fact"] for e in verdict.evidence] == ["authorised", "proposed", "source"]

    def test_judges_an_entry_nothing_was_known_about_as_not_proposed(self) -> None:
        verdict = judge(MemoryHistory(), [ENTRY], on(T0, 10))[ENTRY]
        assert verdict.assessment.reasons[0] == "not_proposed"
        assert (verdict.version, verdict.evidence) == (0, [])

    def test_cites_only_the_facts_recorded_by_the_knowledge_position(self) -> None:
        verdict = judge(an_authorised_entry(), [ENTRY], on(T0, 2))[ENTRY]
        assert "source_not_verified_recently" in verdict.assessment.reasons
        assert [e["position"] for e in verdict.evidence] == [2, 1]

    def test_counts_the_authorisers_revocation_only_once_it_was_recorded(self) -> None:
        history = an_authorised_entry()
        history.revocations.append((4, "SUPT-1", T0))
        assert judge(history, [ENTRY], on(T0, 3))[ENTRY].assessment.justified
        later = judge(history, [ENTRY], on(T0, 4))[ENTRY]
        assert "signer_key_revoked" in later.assessment.reasons

    def test_reads_a_proposed_entry_past_its_expiry_as_expired_not_unauthorised(self) -> None:
        history = MemoryHistory()
        history.record(
            "Proposed",
            "PC-1",
            category="wanted_on_warrant",
            rationale="Necessary and proportionate.",
            review_by=T0 + timedelta(days=60),
            expires_at=T0 + timedelta(days=180),
        )
        verdict = judge(history, [ENTRY], on(T0 + timedelta(days=181), 1))[ENTRY]
        assert verdict.assessment.reasons[0] == "expired"
        assert "not_authorised" not in verdict.assessment.reasons
