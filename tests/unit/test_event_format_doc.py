"""docs/event-format.md lists every event type, its payload fields and who may sign it, as the code does.

A second implementation of the verifier is written from that page, so the page is held to the code:
the catalogue of event types (``governance.domain.catalogue``), each event class's fields less the
statement's header, and the role-by-action matrix (``governance.domain.permissions``).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from governance.domain.catalogue import EVENT_TYPES
from governance.domain.permissions import ACTION_OF_TOPIC, ALLOWED
from governance.integrity.envelope import HEADER_FIELDS

PAGE = Path(__file__).resolve().parents[2] / "docs" / "event-format.md"
ROW = re.compile(r"^\| `(watchlist:[A-Za-z]+\.[A-Za-z]+)` \| ([^|]*) \| ([^|]*) \|")


def documented() -> dict[str, tuple[set[str], set[str]]]:
    """Each documented type's payload fields and signing roles, from the page's table."""
    rows: dict[str, tuple[set[str], set[str]]] = {}
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            topic, fields, roles = match.groups()
            assert topic not in rows, f"{topic} is listed twice"
            rows[topic] = (
                set(re.findall(r"`([a-z0-9_]+)`", fields)),
                {r.strip() for r in roles.split(",") if r.strip()},
            )
    return rows


def test_every_event_type_the_store_may_hold_is_documented_and_nothing_else() -> None:
    assert set(documented()) == set(EVENT_TYPES)


def test_each_documented_payload_lists_exactly_the_fields_its_event_carries() -> None:
    for topic, (fields, _roles) in documented().items():
        carried = {f.name for f in dataclasses.fields(EVENT_TYPES[topic])} - set(HEADER_FIELDS)
        assert fields == carried, topic


def test_each_documented_signer_is_exactly_the_roles_the_permission_matrix_allows() -> None:
    for topic, (_fields, roles) in documented().items():
        allowed = {role.value for role in ALLOWED[ACTION_OF_TOPIC[topic]]}
        assert roles == allowed, topic


def test_every_stored_event_type_has_a_permission_rule() -> None:
    assert set(ACTION_OF_TOPIC) == set(EVENT_TYPES)
