"""Stream ids are RFC 9562 version 7 UUIDs: time first, so they sort in creation order."""

from __future__ import annotations

from governance.ids import uuid7


class TestUuid7:
    def test_matches_the_rfc_9562_example(self) -> None:
        # RFC 9562 appendix A.6: Tuesday, February 22, 2022 2:22:22.00 PM GMT-05:00.
        made = uuid7(unix_ms=0x017F22E279B0, random_bits=(0xCC3 << 62) | 0x18C4DC0C0C07398F)
        assert str(made) == "017f22e2-79b0-7cc3-98c4-dc0c0c07398f"
        assert made.version == 7
        assert made.variant == "specified in RFC 4122"

    def test_ids_made_later_sort_later_and_differ_within_a_millisecond(self) -> None:
        earlier, later = uuid7(unix_ms=1_000), uuid7(unix_ms=1_001)
        assert str(earlier) < str(later)
        assert len({uuid7(unix_ms=1_000) for _ in range(1_000)}) == 1_000
