"""Verifying stored events: envelope, stream placement, hash chain, sealed hashes, signer standing.

An event is valid only if its statement matches where it is stored, it extends the previous event of
its stream, its sealed ciphertext matches the signed hash, and it is signed by the key the officer
held at that event's store position, by an officer not then revoked and holding the role the action
needs. Officers' standing is itself read from verified officer events, lazily and only for positions
before the event being judged, so the recursion always ends (at the founding record).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from typing import Any

from governance.domain.origin import ORIGIN_STREAM
from governance.domain.permissions import ACTION_OF_TOPIC, ALLOWED
from governance.domain.rechecks import EntryContext
from governance.domain.registry import OfficerState
from governance.errors import Failure, IntegrityFailure, NotFound
from governance.integrity import keys
from governance.integrity.checked import BAD_SIGNATURE, Checked, Founding, SignatureJob
from governance.integrity.envelope import (
    GENESIS_PREV,
    Envelope,
    EnvelopeCodec,
    EnvelopeError,
    sealed_hash_problems,
    state_hash,
    statement_problems,
)
from governance.integrity.officer_feed import MAX_POSITION, OfficerFeed
from governance.integrity.rule_checks import ENROLLED, KEY_ROTATED, RuleChecks
from governance.integrity.verified_cache import VerifiedEvents
from governance.storage.recorders import Record, WatchlistRecorder

FOUNDED = "watchlist:Origin.Founded"


class Verifier:
    """Checks stored events against the officer registry as it stood at each event's position."""

    def __init__(
        self,
        recorder: WatchlistRecorder,
        codec: EnvelopeCodec,
        topics: Mapping[str, type[Any]],
    ) -> None:
        self.recorder = recorder
        self.codec = codec
        self.topics = topics
        self._founding: Founding | None = None
        self.feed = OfficerFeed(recorder)
        self.verified = VerifiedEvents()
        self.rules = RuleChecks(self)

    @property
    def founding(self) -> Founding:
        """The store's founding record, verified against its own key."""
        if self._founding is None:
            records = self.recorder.select_records(ORIGIN_STREAM, lte=1)
            if not records:
                raise NotFound(
                    "store: there is no watchlist store here; run 'watchlist init' first"
                )
            record = records[0]
            try:
                envelope = self.codec.decode(record.stored.state)
            except EnvelopeError as error:
                raise IntegrityFailure(_failures(record, str(error))) from None
            payload = envelope.payload
            founding = Founding(
                origin=str(payload.get("origin")),
                admin_officer_id=str(payload.get("admin_officer_id")),
                admin_public_key=str(payload.get("admin_public_key")),
                log_public_key=str(payload.get("log_public_key")),
                position=record.position,
            )
            self._founding = founding
            problems = self.check(record, envelope, GENESIS_PREV)
            if problems:
                self._founding = None
                raise IntegrityFailure(_failures(record, *problems))
        return self._founding

    def trust(self, record: Record, prev: str, actor: str, key_id: str) -> None:
        """Remember an event this process just signed, once its signer's standing checks out.

        Its signature is the one this process just made over these bytes; a later read of the same
        bytes at the same place then needs no second Ed25519 check (see ``check_stream``).
        """
        _key, problems = self._officer_key(record.position, actor, key_id, record.stored.topic)
        if not problems:
            self.verified.remember(record, prev)

    def check_stream(
        self,
        records: list[Record],
        prev: str = GENESIS_PREV,
        first_version: int = 1,
        defer: list[SignatureJob] | None = None,
    ) -> list[Checked]:
        """Verify consecutive events of one stream from ``first_version``, chained from ``prev``."""
        checked = []
        expected_version = first_version
        # The entry's earlier facts, followed as the stream is read from its start.
        context = EntryContext() if first_version == 1 else None
        for record in records:
            problems: list[str] = []
            envelope: Envelope | None = None
            if record.stored.originator_version != expected_version:
                problems.append(
                    f"version {expected_version} is missing from the stream (found "
                    f"{record.stored.originator_version} next): an event was deleted"
                )
            digest = state_hash(record.stored.state)
            try:
                envelope = self.codec.decode(record.stored.state)
            except EnvelopeError as error:
                problems.append(str(error))
            else:
                if not self.verified.holds(record, digest, prev):
                    problems += self.check(record, envelope, prev, defer, context)
                    if not problems and defer is None:
                        self.verified.remember(record, prev)
                if context is not None:
                    context.follow(
                        envelope.type, envelope.version, envelope.actor, envelope.payload
                    )
            checked.append(Checked(record, envelope, tuple(problems)))
            prev = digest
            expected_version = record.stored.originator_version + 1
        return checked

    def check(
        self,
        record: Record,
        envelope: Envelope,
        prev: str | None,
        defer: list[SignatureJob] | None = None,
        context: EntryContext | None = None,
    ) -> list[str]:
        """Every problem with one decoded event; ``prev`` is the expected chain link, if known.

        With ``defer``, the Ed25519 check is appended there as a job instead of run here, so a full
        audit can verify signatures in parallel. ``context`` holds the entry's earlier events when
        the caller has read them (else they are read from the store when a rule needs them).
        """
        stored = record.stored
        problems = []
        kind = envelope.type
        if envelope.stream != str(stored.originator_id):
            problems.append(
                f"statement names stream {envelope.stream} but the event is stored in stream "
                f"{stored.originator_id}: it was moved between streams"
            )
        if envelope.version != stored.originator_version:
            problems.append(
                f"statement says version {envelope.version} but the event is stored as version "
                f"{stored.originator_version}"
            )
        if kind != stored.topic:
            problems.append(f"statement type {kind} differs from stored type {stored.topic}")
        if kind not in self.topics:
            problems.append(f"unknown event type {kind}")
        founding = self.founding
        if envelope.origin != founding.origin:
            problems.append(
                f"statement origin '{envelope.origin}' is not this store's origin '{founding.origin}'"
            )
        if prev is not None and envelope.prev != prev:
            problems.append("hash chain broken: the previous-event hash does not match the stream")
        problems += statement_problems(envelope) + sealed_hash_problems(envelope)
        key, standing = self._signing_key(record.position, envelope)
        problems += standing
        if key is not None:
            if defer is None:
                if not keys.verify(key, envelope.signature, envelope.statement_bytes):
                    problems.append(BAD_SIGNATURE)
            else:
                defer.append(SignatureJob(key, envelope.signature, envelope.statement_bytes))
        problems += self.rules.problems(record, envelope, context)
        if kind in (ENROLLED, KEY_ROTATED):
            problems += self.rules.shared_key_problems(record, envelope)
        return problems

    def _signing_key(self, position: int, envelope: Envelope) -> tuple[str | None, list[str]]:
        """The public key the event must verify under, and any problem with the signer's standing."""
        payload = envelope.payload
        founding = self.founding
        if envelope.type == FOUNDED:
            key = str(payload.get("admin_public_key"))
            if envelope.actor != payload.get("admin_officer_id") or envelope.key_id != keys.key_id(
                key
            ):
                return None, ["founding record is not signed by the key it names"]
            return key, []
        if (
            envelope.type == ENROLLED
            and envelope.actor == founding.admin_officer_id
            and payload.get("officer_id") == envelope.actor
            and self.officer_at(envelope.actor, position) is None
        ):
            # The first administrator's self-signed enrolment, anchored by the founding record.
            if payload.get("public_key") != founding.admin_public_key:
                return None, ["first administrator enrolled with a key other than the founding key"]
            if "admin" not in payload.get("roles", []):
                return founding.admin_public_key, [
                    "the founder did not hold a role allowed to found the store (admin)"
                ]
            return founding.admin_public_key, []
        return self._officer_key(position, envelope.actor, envelope.key_id, envelope.type)

    def _officer_key(
        self, position: int, actor: str, key_id: str, kind: str
    ) -> tuple[str | None, list[str]]:
        """An enrolled officer's key at ``position``, and any problem with their standing then."""
        try:
            state = self.officer_at(actor, position)
        except IntegrityFailure as error:
            first = error.failures[0].problem if error.failures else error.message
            return None, [f"the signer's own record is invalid ({first})"]
        if state is None:
            return None, [f"signed by {actor}, who was not an enrolled officer at this position"]
        if key_id != state.key_id:
            if key_id in state.previous_key_ids:
                return None, [f"signed with key {key_id}, which {state.officer_id} had rotated out"]
            return None, [
                f"signed by key {key_id}, which is not registered to officer {state.officer_id}"
            ]
        if state.revoked:
            return None, [f"signed with the key of officer {state.officer_id} after it was revoked"]
        action = ACTION_OF_TOPIC.get(kind)
        if action is not None and not state.roles & ALLOWED[action]:
            return state.public_key, [
                f"officer {state.officer_id} did not hold a role allowed to {action} at this position"
            ]
        return state.public_key, []

    def officer_at(self, officer_id: str, position: int) -> OfficerState | None:
        """The officer's verified standing from events strictly before ``position``."""
        timeline = self.feed.timeline(officer_id, position)
        while (
            timeline.next_index < len(timeline.records)
            and timeline.records[timeline.next_index].position < position
        ):
            record = timeline.records[timeline.next_index]
            timeline.next_index += 1
            (checked,) = self.check_stream(
                [record], timeline.last_hash, first_version=timeline.next_index
            )
            if not checked.valid or checked.envelope is None:
                timeline.next_index -= 1
                raise IntegrityFailure(checked.failures())
            event = self.to_event(checked.envelope)
            timeline.officer = event.mutate(timeline.officer)
            assert timeline.officer is not None
            timeline.last_hash = state_hash(record.stored.state)
            timeline.positions.append(record.position)
            timeline.states.append(OfficerState.of(timeline.officer))
        index = bisect_left(timeline.positions, position)
        return timeline.states[index - 1] if index else None

    def current(self, officer_id: str) -> OfficerState | None:
        """The officer's verified standing after every event up to the watermark."""
        self.feed.watermark()
        return self.officer_at(officer_id, MAX_POSITION)

    def to_event(self, envelope: Envelope) -> Any:
        """The domain event an envelope records."""
        cls = self.topics[envelope.type]
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", self.codec.event_state(envelope))
        return event


def _failures(record: Record, *problems: str) -> list[Failure]:
    stored = record.stored
    return [
        Failure(str(stored.originator_id), stored.originator_version, record.position, p)
        for p in problems
    ]
