"""Strict, canonical parsing in the offline verifier: an insider holding real keys puts into an
exported bundle an event no honest writer produces, re-signed with the authoriser's real key and
resealed with the log key (leaves, root, checkpoint), so only the parsing rules can catch it.
``python -m governance.verify DIR --log-key KEY`` must refuse it with exit 3, naming the event.

The changes are those ``audit verify`` refuses in the store (tests/tamper/test_strict_envelopes.py),
and a few more."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_offline_verifier import (  # noqa: F401 - fixtures
    REPO,
    Built,
    built,
    clean,
    reseal,
    rows,
    where,
    write_rows,
)
from tests.tamper.test_strict_envelopes import (
    AUTHORISED,
    PAYLOAD_MISSING,
    PAYLOAD_UNKNOWN,
    Change,
    bad_effective_at,
    canonical,
    duplicated,
    extra_envelope_key,
    missing_sealed,
    orphan_ciphertext,
    payload_missing,
    payload_unknown,
    spaced,
    string_version,
    unknown_field,
    unsorted,
)

NOT_CANONICAL = "the statement is not byte for byte its own RFC 8785 form"


def escaped(st: dict[str, Any], outer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    text = canonical(st)
    assert '"rationale":"N' in text
    return text.replace('"rationale":"N', '"rationale":"\\u004e'), outer


def long_number(st: dict[str, Any], outer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return canonical(st).replace(
        f'"version":{st["version"]}', f'"version":{st["version"]}.0'
    ), outer


def missing_field(st: dict[str, Any], outer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return canonical({k: v for k, v in st.items() if k != "key_id"}), outer


def bad_recorded_at(st: dict[str, Any], outer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return canonical({**st, "recorded_at": st["recorded_at"].replace("T", " ")}), outer


def unpadded_signature(st: dict[str, Any], outer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return canonical(st), {**outer, "signature": 3}


CASES: list[tuple[Change, str]] = [
    (spaced, NOT_CANONICAL),
    (unsorted, NOT_CANONICAL),
    (escaped, NOT_CANONICAL),
    (long_number, NOT_CANONICAL),
    (duplicated, "the statement is not well-formed JSON: duplicate key 'actor'"),
    (unknown_field, "statement has unknown fields note or lacks fields (none)"),
    (missing_field, "statement has unknown fields (none) or lacks fields key_id"),
    (string_version, "statement fields of the wrong type: version"),
    (bad_effective_at, "statement effective_at is not of the form YYYY-MM-DDTHH:MM:SS.ffffffZ"),
    (bad_recorded_at, "statement recorded_at is not of the form YYYY-MM-DDTHH:MM:SS.ffffffZ"),
    (extra_envelope_key, "the envelope has extra keys ['comment'] or lacks keys []"),
    (missing_sealed, "the envelope has extra keys [] or lacks keys ['sealed']"),
    (unpadded_signature, "the envelope's signature is not base64"),
    (
        orphan_ciphertext,
        "sealed ciphertext 'subject' is committed to by no sealed field of the statement",
    ),
    (payload_unknown, PAYLOAD_UNKNOWN),
    (payload_missing, PAYLOAD_MISSING),
]


def run_verifier(bundle: Path, log_key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "governance.verify", str(bundle), "--log-key", log_key],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )


def craft(bundle: Path, insider: Built, change: Change) -> dict[str, Any]:
    """Change the last Entry.Authorised event (the last of its stream, so no later event chains
    to it), re-sign it with the authoriser's real key and reseal the bundle; return its row."""
    events = rows(bundle)
    index = max(i for i, e in enumerate(events) if e["topic"] == AUTHORISED)
    row = events[index]
    assert all(e["stream"] != row["stream"] for e in events[index + 1 :])
    outer = json.loads(base64.b64decode(row["state"]))
    text, outer = change(json.loads(outer["statement"]), outer)
    outer["statement"] = text
    if "signature" in outer and isinstance(outer["signature"], str):
        signature = insider.signers["SUPT-2001"].sign(text.encode())
        outer["signature"] = base64.b64encode(signature).decode()
    state = json.dumps(outer, separators=(",", ":"), sort_keys=True).encode()
    events[index] = {**row, "state": base64.b64encode(state).decode()}
    write_rows(bundle, events)
    reseal(bundle, insider.log_key)
    return events[index]


def test_an_untouched_bundle_verifies(built: Built, clean: Path) -> None:  # noqa: F811
    result = run_verifier(clean, built.log)
    assert (result.returncode, result.stderr) == (0, "")


def test_an_honestly_re_signed_event_still_verifies(built: Built, clean: Path) -> None:  # noqa: F811
    """The crafting itself (re-sign, reseal) leaves a valid bundle when nothing is changed."""
    craft(clean, built, lambda st, outer: (canonical(st), outer))
    result = run_verifier(clean, built.log)
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize(("change", "problem"), CASES, ids=[c.__name__ for c, _ in CASES])
def test_the_offline_verifier_refuses_what_no_honest_writer_produces(
    built: Built,  # noqa: F811
    clean: Path,  # noqa: F811
    change: Change,
    problem: str,
) -> None:
    row = craft(clean, built, change)
    result = run_verifier(clean, built.log)
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"FAILED at {where(row)}: {problem}" in result.stderr.splitlines(), result.stderr
    # Nothing else is wrong: the insider rebuilt the leaves, the root and the checkpoint.
    failures = [line for line in result.stderr.splitlines() if line.startswith("FAILED at ")]
    assert failures == [f"FAILED at {where(row)}: {problem}"], result.stderr


def test_an_envelope_with_a_key_given_twice_is_refused(built: Built, clean: Path) -> None:  # noqa: F811
    def twice(st: dict[str, Any], outer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return canonical(st), outer

    row = craft(clean, built, twice)
    events = rows(clean)
    index = next(i for i, e in enumerate(events) if e["position"] == row["position"])
    state = base64.b64decode(row["state"])
    assert state.startswith(b'{"sealed":{}')
    forged = b'{"sealed":{"subject":"AAAA"},' + state[1:]  # the last one given is what json keeps
    events[index] = {**row, "state": base64.b64encode(forged).decode()}
    write_rows(clean, events)
    reseal(clean, built.log_key)
    result = run_verifier(clean, built.log)
    assert result.returncode == 3, result.stderr
    problem = "the envelope is not well-formed JSON: duplicate key 'sealed'"
    assert f"FAILED at {where(row)}: {problem}" in result.stderr.splitlines(), result.stderr
