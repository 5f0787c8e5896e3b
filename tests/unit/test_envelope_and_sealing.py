"""The stored envelope signs exact bytes; sealed personal data is bound by hash and commitment."""

from __future__ import annotations

import base64
import json
from datetime import UTC
from enum import StrEnum
from uuid import uuid4

import pytest
import rfc8785
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    UUIDAsHex,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.errors import IntegrityFailure
from governance.integrity import keys
from governance.integrity.envelope import (
    GENESIS_PREV,
    EnvelopeCodec,
    EnvelopeError,
    sealed_hash_problems,
)
from governance.integrity.sealing import MasterKey, seal, unseal
from governance.integrity.signing import Signer
from tests.unit.test_entry_aggregate import given_proposed

SUBJECT = {"name": "Jane Example", "date_of_birth": "1990-04-01", "subject_ref": "NOMINAL-000123"}


def codec() -> EnvelopeCodec:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    return EnvelopeCodec(transcoder)


def master() -> MasterKey:
    return MasterKey(b"\x01" * 32)


def signed_proposal() -> tuple[bytes, Signer]:
    signer = Signer("PC-1", keys.generate())
    entry = given_proposed(collect=False)
    sealed = seal(SUBJECT, str(entry.id), master())
    object.__setattr__(entry.pending_events[0], "subject", sealed.field)
    event = entry.collect_events()[0]
    return codec().encode(
        event, "watchlist:Entry.Proposed", "test/origin", GENESIS_PREV, signer
    ), signer


class TestEnvelope:
    def test_the_signature_covers_the_exact_stored_statement_bytes(self) -> None:
        state, signer = signed_proposal()
        envelope = codec().decode(state)
        assert keys.verify(signer.public_key, envelope.signature, envelope.statement_bytes)
        assert envelope.statement_bytes == rfc8785.dumps(json.loads(envelope.statement_bytes))
        assert (envelope.origin, envelope.version, envelope.type, envelope.prev) == (
            "test/origin",
            1,
            "watchlist:Entry.Proposed",
            GENESIS_PREV,
        )

    def test_the_statement_holds_the_ciphertext_hash_not_the_ciphertext(self) -> None:
        state, _ = signed_proposal()
        envelope = codec().decode(state)
        sealed = envelope.payload["subject"]
        assert "ciphertext" not in sealed
        assert set(sealed) == {"alg", "key_ref", "nonce", "ciphertext_sha256", "commitment"}
        assert envelope.sealed["subject"]
        assert sealed_hash_problems(envelope) == []

    def test_a_swapped_ciphertext_no_longer_matches_its_signed_hash(self) -> None:
        state, _ = signed_proposal()
        outer = json.loads(state)
        outer["sealed"]["subject"] = base64.b64encode(b"other bytes").decode()
        envelope = codec().decode(rfc8785.dumps(outer))
        assert sealed_hash_problems(envelope) == [
            "ciphertext of sealed field 'subject' does not match its signed hash"
        ]

    def test_an_event_cannot_be_signed_by_someone_other_than_its_actor(self) -> None:
        entry = given_proposed(collect=False)
        event = entry.collect_events()[0]
        with pytest.raises(ValueError, match="actor"):
            codec().encode(event, "t", "o", GENESIS_PREV, Signer("SOMEONE-ELSE", keys.generate()))

    @pytest.mark.parametrize(
        "state", [b"", b"[]", b"{}", b'{"statement": "{}", "signature": "!!"}', b"\xff\xfe"]
    )
    def test_malformed_stored_bytes_are_reported_not_crashed_on(self, state: bytes) -> None:
        with pytest.raises(EnvelopeError):
            codec().decode(state)


class TestSealing:
    def test_a_sealed_subject_opens_with_its_wrapped_key(self) -> None:
        stream = str(uuid4())
        sealed = seal(SUBJECT, stream, master())
        assert unseal(sealed.field, stream, sealed.wrapped_key, master()) == SUBJECT

    def test_sealed_data_is_bound_to_its_entry(self) -> None:
        sealed = seal(SUBJECT, str(uuid4()), master())
        with pytest.raises(IntegrityFailure, match="does not decrypt"):
            unseal(sealed.field, str(uuid4()), sealed.wrapped_key, master())

    def test_a_key_wrapped_under_another_master_key_does_not_open(self) -> None:
        stream = str(uuid4())
        sealed = seal(SUBJECT, stream, master())
        with pytest.raises(IntegrityFailure, match="master key"):
            unseal(sealed.field, stream, sealed.wrapped_key, MasterKey(b"\x02" * 32))

    def test_a_plaintext_that_does_not_match_the_commitment_is_refused(self) -> None:
        stream = str(uuid4())
        first, second = (
            seal(SUBJECT, stream, master()),
            seal({**SUBJECT, "name": "Other"}, stream, master()),
        )
        forged = {**first.field, "commitment": second.field["commitment"]}
        with pytest.raises(IntegrityFailure, match="commitment"):
            unseal(forged, stream, first.wrapped_key, master())

    def test_the_master_key_never_shows_in_its_repr(self) -> None:
        assert "\\x01" not in repr(master())
        assert "hidden" in repr(master())

    def test_a_signer_never_shows_its_key_in_its_repr(self) -> None:
        signer = Signer("PC-1", keys.generate())
        assert repr(signer) == f"Signer(officer_id='PC-1', key_id='{signer.key_id}')"


class TestTaggedPayloads:
    """``EnvelopeCodec.tagged`` equals the library transcoder's encode-then-parse, for any payload."""

    @staticmethod
    def full_codec() -> EnvelopeCodec:
        transcoder = JSONTranscoder()
        for transcoding in (UUIDAsHex(), DatetimeAsISO(), DecimalAsStr()):
            transcoder.register(transcoding)
        return EnvelopeCodec(transcoder)

    scalars = st.one_of(
        st.text(max_size=5),
        st.integers(),
        st.booleans(),
        st.none(),
        st.floats(allow_nan=False),
        st.datetimes(timezones=st.just(UTC)),
        st.uuids(),
        st.decimals(allow_nan=False, allow_infinity=False),
    )
    values = st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.tuples(inner, inner),
            st.dictionaries(st.text(max_size=4), inner, max_size=3),
            st.dictionaries(st.integers(), inner, min_size=1, max_size=2),  # keys json converts
        ),
        max_leaves=12,
    )

    @settings(max_examples=200, deadline=None)
    @given(value=values)
    def test_it_equals_the_transcoder_round_trip(self, value: object) -> None:
        codec_ = self.full_codec()
        assert codec_.tagged(value) == json.loads(codec_.transcoder.encode(value))

    def test_a_type_that_is_not_exactly_a_json_type_goes_through_the_transcoder(self) -> None:
        class Label(str):
            pass

        codec_ = self.full_codec()
        assert codec_.tagged({"k": [Label("x"), (1, 2)]}) == {"k": ["x", [1, 2]]}

    def test_a_subclass_of_a_json_type_is_written_natively_even_with_a_transcoding(self) -> None:
        """The transcoder's encoder never consults transcodings for a ``str`` (or ``int``) subclass."""

        class Colour(StrEnum):
            RED = "red"

        class ColourAsName(Transcoding):
            type, name = Colour, "colour"

            def encode(self, obj: Colour) -> str:
                return obj.name

            def decode(self, data: str) -> Colour:
                return Colour[data]

        codec_ = self.full_codec()
        codec_.transcoder.register(ColourAsName())
        value = {"colour": Colour.RED}
        assert (
            codec_.tagged(value) == json.loads(codec_.transcoder.encode(value)) == {"colour": "red"}
        )
