"""The role table covers every action and every stored event type."""

from __future__ import annotations

import pytest

from governance.domain.catalogue import EVENT_TYPES
from governance.domain.permissions import ACTION_OF_TOPIC, ALLOWED, Action, require
from governance.domain.vocabulary import Role
from governance.errors import PermissionDenied


def test_every_action_names_the_roles_allowed_to_take_it() -> None:
    assert set(ALLOWED) == set(Action)
    assert all(ALLOWED.values())


def test_every_stored_event_type_maps_to_an_action() -> None:
    assert set(EVENT_TYPES) <= set(ACTION_OF_TOPIC)


def test_a_missing_role_is_refused_naming_the_roles_needed() -> None:
    with pytest.raises(PermissionDenied, match="needs the authoriser role to authorise an entry"):
        require("PC-1", frozenset({Role.CUSTODIAN}), Action.AUTHORISE_ENTRY)


def test_any_one_allowed_role_suffices() -> None:
    require("LEGAL-1", frozenset({Role.LEGAL}), Action.CONSULT_SUBJECT)


def test_the_permissions_document_matches_the_table_enforced() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "permissions.md").read_text()
    roles = list(Role)
    for action in Action:
        row = next(line for line in text.splitlines() if line.startswith(f"| {action.value} |"))
        cells = [c.strip() for c in row.strip("|").split("|")][2:]
        assert cells == ["yes" if r in ALLOWED[action] else "-" for r in roles], action
