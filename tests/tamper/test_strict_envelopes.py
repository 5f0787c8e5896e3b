"""Strict, canonical parsing in the store: an insider holding real keys writes, through the store's
own write path (so the hash chain and the Merkle leaf are consistent), an event that no honest
writer produces. ``watchlist audit verify`` must refuse it with exit 3, naming the event."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import pytest
from typer.testing import CliRunner  # noqa: TID251 - tests drive the CLI in-process

from commands.main import app as cli_app
from governance.integrity.signing import Signer
from tests.conftest import World

AUTHORISED = "watchlist:Entry.Authorised"
CANONICAL = {"separators": (",", ":"), "sort_keys": True, "ensure_ascii": False}
#: A transformation of (statement, envelope) into (statement text, envelope) before re-signing.
Change = Callable[[dict[str, Any], dict[str, Any]], tuple[str, dict[str, Any]]]


def canonical(statement: dict[str, Any]) -> str:
    return json.dumps(statement, **CANONICAL)  # type: ignore[arg-type]


def spaced(st: dict[str, Any], outer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return json.dumps(st, sort_keys=True, separators=(", ", ": ")), outer


def unsorted(st: dict[str, Any], outer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return json.dumps(dict(reversed(list(st.items()))), separators=(",", ":")), outer


def duplicated(st: dict[str, Any], outer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return '{"actor":"SOMEONE-ELSE",' + canonical(st)[1:], outer


def unknown_field(st: dict[str, Any], outer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return canonical({**st, "note": "not part of the format"}), outer


def string_version(st: dict[str, Any], outer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return canonical({**st, "version": str(st["version"])}), outer


def bad_effective_at(st: dict[str, Any], outer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return canonical({**st, "effective_at": "2026-13-45T00:00:00Z"}), outer


def extra_envelope_key(st: dict[str, Any], outer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return canonical(st), {**outer, "comment": "unsigned"}


def missing_sealed(st: dict[str, Any], outer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return canonical(st), {k: v for k, v in outer.items() if k != "sealed"}


def orphan_ciphertext(st: dict[str, Any], outer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    extra = base64.b64encode(b"ciphertext nobody signed").decode()
    return canonical(st), {**outer, "sealed": {**outer["sealed"], "subject": extra}}


def payload_unknown(st: dict[str, Any], outer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return canonical({**st, "payload": {**st["payload"], "note": "not a field of the type"}}), outer


def payload_missing(st: dict[str, Any], outer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    payload = {k: v for k, v in st["payload"].items() if k != "rank"}
    return canonical({**st, "payload": payload}), outer


PAYLOAD_UNKNOWN = f"the payload of {AUTHORISED} has unknown fields note or lacks fields (none)"
PAYLOAD_MISSING = f"the payload of {AUTHORISED} has unknown fields (none) or lacks fields rank"
CASES: list[tuple[Change, str]] = [
    (spaced, "not byte for byte its own RFC 8785 form"),
    (unsorted, "not byte for byte its own RFC 8785 form"),
    (duplicated, "not byte for byte its own RFC 8785 form (or has a duplicate key)"),
    (unknown_field, "statement has unknown fields note"),
    (string_version, "statement fields of the wrong type: version"),
    (bad_effective_at, "statement effective_at is not of the form YYYY-MM-DDTHH:MM:SS.ffffffZ"),
    (extra_envelope_key, "the envelope has extra keys ['comment'] or lacks keys []"),
    (missing_sealed, "the envelope has extra keys [] or lacks keys ['sealed']"),
    (orphan_ciphertext, "sealed ciphertext 'subject' is committed to by no sealed field"),
    (payload_unknown, PAYLOAD_UNKNOWN),
    (payload_missing, PAYLOAD_MISSING),
]


def write_crafted(world: World, change: Change) -> tuple[str, int]:
    """Authorise an entry, the Authorised event's state crafted by ``change`` and re-signed with
    the authoriser's real key; return its stream and version."""
    codec = world.app.codec
    real = codec.encode

    def crafted(event: Any, topic: str, origin: str, prev: str, signer: Signer) -> bytes:
        state = real(event, topic, origin, prev, signer)
        if topic != AUTHORISED:
            return state
        outer = json.loads(state)
        text, outer = change(json.loads(outer["statement"]), outer)
        outer["statement"] = text
        outer["signature"] = base64.b64encode(signer.sign(text.encode())).decode()
        return json.dumps(outer, separators=(",", ":"), sort_keys=True).encode()

    codec.encode = crafted  # type: ignore[method-assign]
    try:
        entry = world.proposed()
        with suppress(Exception):  # the store may refuse to read back what it wrote
            world.app.entries.authorise(world.authoriser, entry.id, "Necessary and proportionate.")
    finally:
        codec.encode = real  # type: ignore[method-assign]
    return str(entry.id), 2


def audit_cli(world: World) -> Any:
    env = {"WATCHLIST_DATABASE_URL": world.settings.database_url, "WATCHLIST_HOME": None}
    return CliRunner(env=env).invoke(
        cli_app, ["--home", str(world.settings.home), "audit", "verify", "--json"]
    )


@pytest.mark.parametrize(("change", "problem"), CASES, ids=[c.__name__ for c, _ in CASES])
def test_audit_verify_refuses_what_no_honest_writer_produces(
    world: World, change: Change, problem: str
) -> None:
    stream, version = write_crafted(world, change)
    result = audit_cli(world)
    assert result.exit_code == 3, result.stdout
    document = json.loads(result.stdout)
    assert document["verdict"] == "failed"
    mine = [f for f in document["failures"] if (f["stream"], f["version"]) == (stream, version)]
    assert any(problem in f["problem"] for f in mine), document["failures"]
    # Nothing else is wrong: the chain and the Merkle log were kept consistent by the write path.
    assert all(f["stream"] == stream for f in document["failures"]), document["failures"]


def test_an_honest_store_still_verifies(world: World) -> None:
    world.active()
    result = audit_cli(world)
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["verdict"] == "verified"
