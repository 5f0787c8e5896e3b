"""Instants must carry an explicit offset; local times must exist and be unambiguous."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.errors import InvalidInput
from governance.times import (
    age_in_years,
    format_instant,
    format_micros,
    from_micros,
    parse_formatted,
    parse_instant,
    to_micros,
)

NINE_UTC = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


class TestParsing:
    @pytest.mark.parametrize(
        "text",
        [
            "2026-11-26T09:00:00Z",
            "2026-11-26T09:00:00+00:00",
            "2026-11-26T14:30:00+05:30",
            "2026-11-26T04:00:00-05:00",
        ],
    )
    def test_the_same_instant_in_different_offsets_is_equal(self, text: str) -> None:
        assert parse_instant(text, "at") == NINE_UTC

    def test_a_naive_time_is_refused_naming_the_field(self) -> None:
        with pytest.raises(InvalidInput, match=r"^at: .*no UTC offset"):
            parse_instant("2026-11-26T09:00:00", "at")

    def test_a_bare_date_is_refused_where_an_instant_is_meant(self) -> None:
        with pytest.raises(InvalidInput, match="is a date"):
            parse_instant("2026-11-26", "at")

    def test_a_local_time_in_the_spring_gap_does_not_exist(self) -> None:
        with pytest.raises(InvalidInput, match="does not exist"):
            parse_instant("2026-03-29T01:30:00[Europe/London]", "at")

    def test_a_local_time_in_the_autumn_fold_is_ambiguous(self) -> None:
        with pytest.raises(InvalidInput, match="ambiguous"):
            parse_instant("2026-10-25T01:30:00[Europe/London]", "at")

    def test_an_offset_and_zone_that_agree_are_accepted(self) -> None:
        assert parse_instant("2026-10-25T01:30:00+01:00[Europe/London]", "at") == datetime(
            2026, 10, 25, 0, 30, tzinfo=UTC
        )

    def test_an_offset_that_contradicts_its_zone_is_refused(self) -> None:
        with pytest.raises(InvalidInput, match="does not match"):
            parse_instant("2026-06-01T10:00:00+00:00[Europe/London]", "at")

    @pytest.mark.parametrize(
        "text",
        [
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-26T25:00:00Z",
            "",
            "2026-11-26T09:00Z[Mars/Base]",
        ],
    )
    def test_nonsense_is_refused(self, text: str) -> None:
        with pytest.raises(InvalidInput):
            parse_instant(text, "at")


class TestRepresentation:
    @given(
        st.datetimes(
            min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
        )
    )
    def test_microsecond_integers_round_trip(self, value: datetime) -> None:
        assert from_micros(to_micros(value)) == value
        assert parse_formatted(format_instant(value)) == value

    @given(st.integers(min_value=-(10**15), max_value=2**53))
    def test_stored_microseconds_render_as_their_instant(self, micros: int) -> None:
        assert format_micros(micros) == format_instant(from_micros(micros))
        assert to_micros(parse_formatted(format_micros(micros))) == micros

    def test_age_counts_completed_years(self) -> None:
        assert age_in_years(date(2008, 11, 27), NINE_UTC) == 17
        assert age_in_years(date(2008, 11, 26), NINE_UTC) == 18
