"""Offline verifier of a watchlist bundle: ``python -m governance.offline.bundle DIR [--log-key KEY]``.

Needs only Python's standard library and ``cryptography``, and shares no code with the store's own
verifier. Following docs/bundle-format.md it checks, in order: the manifest's file hashes; every
event in store order (envelope, placement, versions and hash chain per stream, sealed-ciphertext
hashes, recording time, the signer's standing in an officer registry replayed from the events, the
Ed25519 signature); the Merkle leaves and root (RFC 9162); the log key; each signed checkpoint, its
witness cosignatures and the consistency proofs; and the exported officer registry. This module
runs the checks in that order; they live beside it in ``files`` (reading the bundle), ``events``
(each event) and ``merkle_log`` (the leaves, checkpoints and proofs).

Exit codes: 0 all verifies and the last checkpoint covers every event; 2 bad usage or not a bundle;
3 any failure; 4 no failure, but events after the last checkpoint (an unverified tail).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from governance.errors import ProofError
from governance.ledger import note_keys
from governance.offline.events import Replay, Report, from_b64, key_id
from governance.offline.files import json_list, read_events, read_files
from governance.offline.merkle_log import check_checkpoints, check_leaves, root_of, witness_key

BUNDLE_FORMAT = "watchlist-bundle/1"
REGISTRY = ("officer_id", "rank", "roles", "key_id", "status")


class UsageError(Exception):
    """Bad usage, or a directory that is not a bundle (exit 2)."""


def check_registry(
    replayed: dict[str, dict[str, Any]], files: dict[str, bytes], report: Report
) -> None:
    """officers.json must list exactly the officers the events give, with the same standing."""
    ours = [{key: officer[key] for key in REGISTRY} for officer in replayed.values()]
    theirs = [
        {key: row.get(key) for key in REGISTRY} for row in json_list(files, "officers.json", report)
    ]
    for row in theirs:
        if row not in ours or theirs.count(row) > 1:
            report.fail("bundle", f"officers.json gives {row}, which the events do not")
    for row in ours:
        if row not in theirs:
            report.fail("bundle", f"officers.json lacks {row}, which the events give")


def verify_bundle(
    directory: Path,
    pinned: note_keys.Verifier | None = None,
    extra: list[note_keys.Verifier] | None = None,
) -> Report:
    """Run every check on the bundle in ``directory``; raise UsageError if it is not a bundle."""
    try:
        manifest = json.loads((directory / "manifest.json").read_bytes())
    except (OSError, ValueError):
        raise UsageError(f"{directory} is not a bundle: no readable manifest.json") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise UsageError(f"{directory} is not a {BUNDLE_FORMAT} bundle")
    report = Report()
    try:
        _verify(directory, manifest, pinned, extra or [], report)
    except Exception as error:  # the last resort: malformed input never ends in a traceback
        report.fail(
            "bundle", f"the bundle could not be processed ({type(error).__name__}: {error})"
        )
    return report


def _verify(
    directory: Path, manifest: dict[str, Any], pinned: note_keys.Verifier | None,
    extra: list[note_keys.Verifier], report: Report,
) -> None:  # fmt: skip
    listed = manifest.get("files")
    if not isinstance(listed, dict) or not all(isinstance(v, str) for v in listed.values()):
        report.fail("bundle", "manifest.json has no well-formed file list")
        listed = {}
    files = read_files(directory, listed, report)
    events = read_events(files, report)
    replay = Replay()
    for index, event in enumerate(events):
        for problem in replay.check(event, first=index == 0):
            report.fail(event.stream, problem, event)
    leaves = check_leaves(events, files, report)
    report.events, report.root, found = len(events), root_of(leaves, len(leaves)), replay.founding
    log = None
    try:
        raw = from_b64(found.get("log_public_key"))
        log = note_keys.parse_verifier_key(note_keys.verifier_key(found["origin"], raw))
    except (KeyError, TypeError, ValueError, ProofError):
        report.fail("bundle", "the founding record names no valid log key")
    expected = {
        "origin": found.get("origin"), "founding_key_id": key_id(found.get("admin_public_key")),
        "log_key": str(log) if log else manifest.get("log_key"), "events": len(events),
        "tree_size": len(leaves),
        "root": base64.b64encode(report.root).decode(),
    }  # fmt: skip
    for key, value in expected.items():
        if manifest.get(key) != value:
            report.fail("bundle", f"manifest.json {key} {manifest.get(key)!r} is not {value!r}")
    if pinned is not None and pinned != log:
        report.fail("bundle", f"the pinned --log-key {pinned.label} is not this store's log key")
    witnesses = list(extra)
    for text in json_list(files, "witnesses.json", report, str):
        try:
            witnesses.append(witness_key(text))
        except ProofError as error:
            report.fail("bundle", f"witnesses.json: {error.message}")
    check_checkpoints(files, pinned or log, witnesses, found.get("origin"), leaves, report)
    check_registry(replay.officers, files, report)


def render(report: Report, as_json: bool) -> int:
    """Print failures on stderr and the verdict (or JSON) on stdout; return the exit code."""
    size, root = report.checkpoint_size, base64.b64encode(report.root).decode()
    tail = report.events - (size or 0)
    if report.failures:
        status, code, verdict = "failed", 3, f"FAILED: {len(report.failures)} problem(s)"
    elif size is None or tail:
        status, code, last = "unverified-tail", 4, "none" if size is None else size
        verdict = (
            f"UNVERIFIED TAIL: {tail} events after the last checkpoint (size {last}) "
            "are not covered by any checkpoint"
        )
    else:
        status, code, verdict = "ok", 0, f"OK: the checkpoint of size {size} covers every event"
    for f in report.failures:
        where = f"stream {f['stream']} version {f['version']} position {f['position']}"
        where = f["stream"] if f["version"] is None else where
        print(f"FAILED at {where}: {f['problem']}", file=sys.stderr)
    if as_json:
        document = {
            "status": status, "events": report.events, "root": root, "checkpoint_size": size,
            "unverified_tail": tail, "cosignatures": report.cosignatures,
            "failures": report.failures,
        }  # fmt: skip
        print(json.dumps(document, indent=2))
        return code
    print(f"{verdict}\n{report.events} events; recomputed Merkle root {root}")
    for c in report.cosignatures:
        when = datetime.fromtimestamp(c["timestamp"], UTC).isoformat()
        print(f"checkpoint of size {c['size']} is cosigned by witness {c['witness']} at {when}")
    return code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = _Parser(
        prog="python -m governance.offline.bundle", description="Verify a bundle offline."
    )
    parser.add_argument("directory", type=Path, help="the bundle directory")
    parser.add_argument("--log-key", help="the log's verifier key NAME+HEXID+BASE64, pinned")
    parser.add_argument("--witness", action="append", default=[], help="a witness key (repeat)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    try:
        args = parser.parse_args(argv)
        pinned = None if args.log_key is None else note_keys.parse_verifier_key(args.log_key)
        if pinned is not None and pinned.sig_type != note_keys.SIG_ED25519:
            raise UsageError("--log-key is not an Ed25519 note signer key")
        if not args.directory.is_dir():
            raise UsageError(f"{args.directory} is not a directory")
        report = verify_bundle(args.directory, pinned, [witness_key(k) for k in args.witness])
    except (UsageError, ProofError) as error:
        print(f"verify: {error}", file=sys.stderr)
        return 2
    return render(report, args.json)


if __name__ == "__main__":
    sys.exit(main())
