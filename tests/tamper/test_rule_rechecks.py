"""Write-time rules are checked again when a stored event is verified (issue 13, section 2).

An insider holding a valid key can append an event that no command would write: an authorisation
claiming a rank the signer does not hold, an entry authorised by its own proposer, a removal
backdated past the limits, a late fact confirmed by the officer who recorded it. Each is appended
through the recorder (so its Merkle leaf is written as for any event) and signed with the signer's
own registered key; the store audit and every verified read must refuse it, on both backends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from governance import clock
from governance.application import WatchlistApp
from governance.domain.officer import officer_stream
from governance.domain.policy import PolicyDocument
from governance.domain.vocabulary import Rank, RemovalReason
from governance.errors import IntegrityFailure
from governance.integrity.envelope import GENESIS_PREV, EnvelopeCodec, state_hash
from governance.integrity.signing import Signer
from governance.services.inclusion import KnownAt, answer_inclusion
from governance.services.store_audit import verify_store
from tests.conftest import World, proposal

AUTHORISED = "watchlist:Entry.Authorised"
REMOVED = "watchlist:Entry.Removed"


def forge(
    app: WatchlistApp,
    stream: UUID,
    topic: str,
    signer: Signer,
    effective_at: datetime | None = None,
    **payload: Any,
) -> int:
    """Append a well-formed, correctly chained event signed by ``signer`` through the recorder
    (no command, so no write-time rule runs); its position."""
    records = app.store_recorder.select_records(stream)
    version = len(records) + 1
    prev = state_hash(records[-1].stored.state) if records else GENESIS_PREV
    now = clock.now()
    event = SimpleNamespace(
        originator_id=stream,
        originator_version=version,
        timestamp=now,
        actor=signer.officer_id,
        effective_at=effective_at or now,
        **payload,
    )
    codec = EnvelopeCodec(app.mapper.transcoder)  # type: ignore[arg-type]
    state = codec.encode(event, topic, app.verifier.founding.origin, prev, signer)
    positions = app.recorder.insert_events([StoredEvent(stream, version, topic, state)])
    assert positions is not None
    return positions[0]


def problems(world: World) -> list[str]:
    """Every failure the full audit reports on a freshly opened store."""
    app = world.reopen()
    try:
        return [f.describe() for f in verify_store(app).failures]
    finally:
        app.close()


def refused_on_read(world: World, entry_id: UUID, phrase: str) -> None:
    app = world.reopen()
    try:
        with pytest.raises(IntegrityFailure, match=phrase):
            app.entries.get(entry_id)
    finally:
        app.close()


def removal(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "reason": RemovalReason.CASE_CLOSED.value,
        "note": None,
        "backdate_reason": None,
        "source_ref": None,
        "needs_confirmation": False,
    }
    return {**payload, **changes}


class TestRankComesFromTheRegistry:
    def test_an_inspector_claiming_superintendent_is_refused_by_audit_reads_and_inclusion(
        self, world: World
    ) -> None:
        entry = world.proposed()
        assert world.app.officer(world.inspector.officer_id).rank is Rank.INSPECTOR
        position = forge(
            world.app,
            entry.id,
            AUTHORISED,
            world.inspector,
            rationale="Forged.",
            rank="superintendent",
        )
        found = problems(world)
        at = f"integrity failure at stream {entry.id} version 2 position {position}: "
        assert sorted(line for line in found if line.startswith(at)) == [
            at + "authoriser_rank_too_low: INSP-4001's rank inspector is below the minimum "
            "superintendent of the policy in force",
            at + "rank_claim_mismatch: the event claims rank 'superintendent' but the officer "
            "registry holds rank inspector for INSP-4001 at this position",
        ]
        assert len(found) == 2, found
        refused_on_read(world, entry.id, "rank_claim_mismatch")
        app = world.reopen()
        try:
            with pytest.raises(IntegrityFailure):
                answer_inclusion(app, entry.id, clock.now(), KnownAt())
        finally:
            app.close()

    def test_an_honest_claim_below_the_minimum_is_refused(self, world: World) -> None:
        entry = world.proposed()
        forge(world.app, entry.id, AUTHORISED, world.inspector, rationale="F.", rank="inspector")
        (line,) = problems(world)
        assert "authoriser_rank_too_low" in line
        refused_on_read(world, entry.id, "authoriser_rank_too_low")

    def test_the_minimum_is_the_policy_in_force_at_the_event(
        self, world: World, frozen: clock.FrozenClock
    ) -> None:
        """Inspectors may authorise once a signed policy says so; that does not bless a forged
        authorisation stored before the policy was published."""
        early = world.proposed()
        forge(world.app, early.id, AUTHORISED, world.inspector, rationale="F.", rank="inspector")
        frozen.advance(timedelta(minutes=1))
        world.app.policies.publish(
            world.admin, PolicyDocument(min_authoriser_rank=Rank.INSPECTOR), None
        )
        frozen.advance(timedelta(minutes=1))
        later = world.proposed()
        world.app.entries.authorise(world.inspector, later.id, "Necessary and proportionate.")
        (line,) = problems(world)
        assert f"stream {early.id} version 2" in line
        assert "authoriser_rank_too_low" in line

    def test_a_promotion_counts_only_from_its_position(self, world: World) -> None:
        entry = world.proposed()
        forge(
            world.app, entry.id, AUTHORISED, world.inspector, rationale="F.", rank="superintendent"
        )
        world.app.officers.change_rank(
            world.admin, world.inspector.officer_id, Rank.SUPERINTENDENT, "Promoted."
        )
        assert any("rank_claim_mismatch" in line for line in problems(world))


class TestSeparationOfDuties:
    def test_the_proposer_authorising_their_own_entry_is_refused(self, world: World) -> None:
        # SUPT-2001 holds both the custodian and the authoriser roles.
        entry = world.app.entries.propose(world.authoriser, proposal())
        position = forge(
            world.app,
            entry.id,
            AUTHORISED,
            world.authoriser,
            rationale="Forged.",
            rank="superintendent",
        )
        assert problems(world) == [
            f"integrity failure at stream {entry.id} version 2 position {position}: "
            "authorised_by_proposer: SUPT-2001 proposed this entry and cannot authorise it"
        ]
        refused_on_read(world, entry.id, "authorised_by_proposer")


class TestBackdatingLimits:
    def test_a_removal_backdated_beyond_a_day_without_reason_or_source(self, world: World) -> None:
        entry = world.active()
        forge(
            world.app,
            entry.id,
            REMOVED,
            world.custodian,
            effective_at=clock.now() - timedelta(days=3),
            **removal(),
        )
        (line,) = problems(world)
        assert "without a reason and a source reference" in line
        refused_on_read(world, entry.id, "without a reason")

    def test_a_removal_beyond_90_days_that_does_not_await_confirmation(self, world: World) -> None:
        entry = world.active()
        forge(
            world.app,
            entry.id,
            REMOVED,
            world.custodian,
            effective_at=clock.now() - timedelta(days=100),
            **removal(backdate_reason="Found late.", source_ref="CASE-1"),
        )
        (line,) = problems(world)
        assert "needs_confirmation is False" in line

    def test_an_effective_time_in_the_future(self, world: World) -> None:
        entry = world.active()
        forge(
            world.app,
            entry.id,
            REMOVED,
            world.custodian,
            effective_at=clock.now() + timedelta(hours=1),
            **removal(),
        )
        (line,) = problems(world)
        assert "more than 5 minutes after recorded_at" in line

    def test_a_source_check_backdated_without_a_note(self, world: World) -> None:
        entry = world.active()
        forge(
            world.app,
            entry.id,
            "watchlist:Entry.SourceVerified",
            world.custodian,
            effective_at=clock.now() - timedelta(days=2),
            status="live",
            note=None,
        )
        (line,) = problems(world)
        assert "a source check backdated more than 24 hours without a note" in line

    def test_honest_late_records_verify(self, world: World) -> None:
        entry = world.active()
        world.app.entries.remove(
            world.custodian,
            entry.id,
            RemovalReason.CASE_CLOSED,
            clock.now() - timedelta(days=100),
            None,
            "Found late.",
            "CASE-1",
        )
        world.app.entries.confirm(world.authoriser, entry.id, 3, "Checked the case file.")
        assert problems(world) == []


class TestConfirmation:
    def test_the_recorder_confirming_their_own_late_fact(self, world: World) -> None:
        entry = world.active()
        world.app.entries.remove(
            world.custodian,
            entry.id,
            RemovalReason.CASE_CLOSED,
            clock.now() - timedelta(days=100),
            None,
            "Found late.",
            "CASE-1",
        )
        forge(
            world.app,
            entry.id,
            "watchlist:Entry.Confirmed",
            world.custodian,
            confirms=3,
            note="Forged.",
        )
        (line,) = problems(world)
        assert "PC-1001 confirmed the late fact they recorded themselves (version 3)" in line

    def test_confirming_a_fact_that_awaited_nothing(self, world: World) -> None:
        entry = world.active()
        forge(
            world.app,
            entry.id,
            "watchlist:Entry.Confirmed",
            world.authoriser,
            confirms=2,
            note="Forged.",
        )
        (line,) = problems(world)
        assert "confirms version 2, which was not awaiting confirmation" in line


class TestOneKeyTwoOfficers:
    def test_an_enrolment_of_a_key_held_by_another_officer_is_flagged(self, world: World) -> None:
        """Appended past the enrolment refusal: the custodian's key enrolled again as a
        superintendent authoriser, who then authorises the custodian's own proposal."""
        twin = Signer("SUPT-9001", world.custodian._key)  # the same key pair
        enrolment = forge(
            world.app,
            officer_stream(twin.officer_id),
            "watchlist:Officer.Enrolled",
            world.admin,
            originator_topic="watchlist:Officer",
            officer_id=twin.officer_id,
            name="Second Identity",
            rank=Rank.SUPERINTENDENT.value,
            roles=["authoriser"],
            public_key=world.custodian.public_key,
            key_id=world.custodian.key_id,
        )
        entry = world.proposed()
        authorised = forge(
            world.app, entry.id, AUTHORISED, twin, rationale="Mine.", rank="superintendent"
        )
        found = problems(world)
        stream = officer_stream(twin.officer_id)
        assert found[0] == (
            f"integrity failure at stream {stream} version 1 position {enrolment}: "
            f"shared_key: key {world.custodian.key_id} is already registered to officer PC-1001: "
            "two officers cannot share one key"
        )
        assert found[1].startswith(
            f"integrity failure at stream {entry.id} version 2 position {authorised}: "
            "the signer's own record is invalid"
        )
        assert len(found) == 2, found
        refused_on_read(world, entry.id, "own record is invalid")

    def test_a_rotation_to_a_key_held_by_another_officer_is_flagged(self, world: World) -> None:
        stream = officer_stream(world.inspector.officer_id)
        position = forge(
            world.app,
            stream,
            "watchlist:Officer.KeyRotated",
            world.admin,
            public_key=world.authoriser.public_key,
            key_id=world.authoriser.key_id,
            reason="Forged.",
        )
        (line,) = problems(world)
        assert line == (
            f"integrity failure at stream {stream} version 2 position {position}: "
            f"shared_key: key {world.authoriser.key_id} is already registered to officer "
            "SUPT-2001: two officers cannot share one key"
        )
