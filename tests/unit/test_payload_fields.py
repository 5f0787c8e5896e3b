"""The offline verifier's plain table of payload fields is exactly the catalogue's event fields."""

from __future__ import annotations

import dataclasses

from governance.domain.catalogue import EVENT_TYPES
from governance.domain.payload_fields import PAYLOAD_FIELDS
from governance.integrity.envelope import HEADER_FIELDS


def test_the_table_lists_every_event_type_with_exactly_its_payload_fields() -> None:
    carried = {
        topic: frozenset(f.name for f in dataclasses.fields(cls)) - set(HEADER_FIELDS)
        for topic, cls in EVENT_TYPES.items()
    }
    assert carried == PAYLOAD_FIELDS
