"""Offline verifier of a watchlist bundle: ``python -m governance.offline.bundle DIR [--log-key KEY]``.

Needs only Python's standard library and ``cryptography``, and shares no code with the store's own
verifier. Following docs/bundle-format.md it checks, in order: the manifest's file hashes; every
event in store order (envelope, placement, versions and hash chain per stream, sealed-ciphertext
hashes, recording time, the signer's standing in an officer registry replayed from the events, the
Ed25519 signature); the Merkle leaves and root (RFC 9162); the log key; each signed checkpoint, its
witness cosignatures and the consistency proofs; and the exported officer registry. This module
runs the checks in that order; they live beside it in ``files`` (reading the bundle), ``events``
(each event) and ``merkle_log`` (the leaves, checkpoints and proofs).

The verdict is OK only when the bundle is tied to something outside it (an *anchor*): a log key
pinned with ``--log-key``, a checkpoint held outside the bundle (``--trusted FILE``), or witness
keys given with ``--witness`` (at least ``--min-witnesses`` of them, by default all, must have
cosigned a checkpoint covering every event). Keys the bundle lists itself (``witnesses.json``, the
log key in its founding record) never anchor it, and a cosignature is matched by key, never by name.

Exit codes: 0 all verifies, anchored, and a checkpoint covers every event; 2 bad usage or not a
bundle; 3 any failure; 4 no failure, anchored, but events after the last checkpoint (an unverified
tail); 5 no failure, but nothing outside the bundle vouches for it (not anchored).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from dataclasses import dataclass, field
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


OK, USAGE, FAILED, TAIL, NOT_ANCHORED = 0, 2, 3, 4, 5


class UsageError(Exception):
    """Bad usage, or a directory that is not a bundle (exit 2)."""


@dataclass
class BundleReport(Report):
    """A Report, with what the verdict rests on: the anchors given outside the bundle, and keys.

    ``anchors``: each a dict with ``kind`` (``log-key``, ``trusted-checkpoint`` or ``witness``),
    ``key`` and ``source`` (the command-line option it came from). ``log_key``: the key the
    checkpoints were verified with and its source (``--log-key``, or ``bundle`` for the founding
    record's). ``bundle_witnesses``: the keys witnesses.json lists, never trusted.
    """

    anchors: list[dict[str, Any]] = field(default_factory=list)
    log_key: dict[str, Any] | None = None
    bundle_witnesses: list[str] = field(default_factory=list)


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
    trusted: list[tuple[str, bytes]] | None = None,
    min_witnesses: int | None = None,
) -> BundleReport:
    """Run every check on the bundle in ``directory``; raise UsageError if it is not a bundle.

    ``pinned``: the log key given with --log-key; ``extra``: the witness keys given with
    --witness, of which ``min_witnesses`` (default: all) must have cosigned a checkpoint covering
    every event; ``trusted``: (file, bytes) of checkpoints held outside the bundle.
    """
    try:
        manifest = json.loads((directory / "manifest.json").read_bytes())
    except (OSError, ValueError):
        raise UsageError(f"{directory} is not a bundle: no readable manifest.json") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise UsageError(f"{directory} is not a {BUNDLE_FORMAT} bundle")
    report = BundleReport()
    witnesses = extra or []
    needed = len(witnesses) if min_witnesses is None else min_witnesses
    try:
        _verify(directory, manifest, pinned, witnesses, trusted or [], needed, report)
    except Exception as error:  # the last resort: malformed input never ends in a traceback
        report.fail(
            "bundle", f"the bundle could not be processed ({type(error).__name__}: {error})"
        )
    return report


def _verify(
    directory: Path, manifest: dict[str, Any], pinned: note_keys.Verifier | None,
    witnesses: list[note_keys.Verifier], trusted: list[tuple[str, bytes]], needed: int,
    report: BundleReport,
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
    elif pinned is not None:
        report.anchors.append({"kind": "log-key", "key": str(pinned), "source": "--log-key"})
    used = pinned or log
    if used is not None:
        report.log_key = {"key": str(used), "source": "--log-key" if pinned else "bundle"}
    for text in json_list(files, "witnesses.json", report, str):
        try:
            report.bundle_witnesses.append(str(witness_key(text)))  # listed, never trusted
        except ProofError as error:
            report.fail("bundle", f"witnesses.json: {error.message}")
    held = check_checkpoints(files, used, witnesses, found.get("origin"), leaves, report, trusted)
    for name, size in held:
        report.anchors.append({"kind": "trusted-checkpoint", "file": name, "size": size,
                               "key": str(used), "source": "--trusted"})  # fmt: skip
    check_witnesses(witnesses, needed, report)
    check_registry(replay.officers, files, report)


def check_witnesses(witnesses: list[note_keys.Verifier], needed: int, report: BundleReport) -> None:
    """The witness policy: ``needed`` of the given keys cosigned a checkpoint of every event."""
    if not witnesses:
        return
    covering = {c["key"]: c for c in report.cosignatures if c["size"] == report.events}
    met = [w for w in witnesses if str(w) in covering]
    for witness in met:
        cosigned = covering[str(witness)]
        report.anchors.append({"kind": "witness", "key": str(witness), "source": "--witness",
                               "checkpoint": cosigned["checkpoint"], "size": cosigned["size"],
                               "timestamp": cosigned["timestamp"]})  # fmt: skip
    if len(met) < needed:
        missing = ", ".join(w.label for w in witnesses if w not in met)
        report.fail(
            "witness-policy",
            f"only {len(met)} of the {needed} witness(es) required cosigned a checkpoint "
            f"covering all {report.events} events (no such cosignature by {missing})",
        )


def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def render(report: BundleReport, as_json: bool) -> int:
    """Print failures on stderr and the verdict (or JSON) on stdout; return the exit code."""
    anchors = report.anchors
    size, root = report.checkpoint_size, base64.b64encode(report.root).decode()
    tail = report.events - (size or 0)
    if report.failures:
        status, code, verdict = "failed", FAILED, f"FAILED: {len(report.failures)} problem(s)"
    elif not anchors:
        status, code = "not-anchored", NOT_ANCHORED
        verdict = (
            "NOT ANCHORED: no failure, but nothing outside the bundle vouches for it (pin the "
            "log key with --log-key, or give --trusted FILE or --witness KEY)"
        )
    elif size is None or tail:
        status, code, last = "unverified-tail", TAIL, "none" if size is None else size
        verdict = (
            f"UNVERIFIED TAIL: {tail} events after the last checkpoint (size {last}) "
            "are not covered by any checkpoint"
        )
    else:
        status, code, verdict = "ok", OK, f"OK: the checkpoint of size {size} covers every event"
    for f in report.failures:
        where = f"stream {f['stream']} version {f['version']} position {f['position']}"
        where = f["stream"] if f["version"] is None else where
        print(f"FAILED at {where}: {f['problem']}", file=sys.stderr)
    extra = report
    if as_json:
        document = {
            "status": status, "anchored": bool(anchors), "events": report.events, "root": root,
            "checkpoint_size": size, "unverified_tail": tail, "anchors": anchors,
            "log_key": extra.log_key, "bundle_witnesses": extra.bundle_witnesses,
            "cosignatures": report.cosignatures, "failures": report.failures,
        }  # fmt: skip
        print(json.dumps(document, indent=2))
        return code
    print(f"{verdict}\n{report.events} events; recomputed Merkle root {root}")
    if code == NOT_ANCHORED and tail:
        print(f"{tail} events after the last checkpoint are not covered by any checkpoint either")
    print(
        "anchored by:" if anchors else "not anchored: the verdict rests only on keys in the bundle"
    )
    for a in anchors:
        if a["kind"] == "log-key":
            print(f"  log key {a['key']} (pinned with --log-key)")
        elif a["kind"] == "trusted-checkpoint":
            print(f"  trusted checkpoint {a['file']} of size {a['size']} (given with --trusted), "
                  f"signed by log key {a['key']}")  # fmt: skip
        else:
            print(f"  witness key {a['key']} (given with --witness): cosigned the checkpoint of "
                  f"size {a['size']} at {_when(a['timestamp'])}")  # fmt: skip
    if extra.log_key is not None and extra.log_key["source"] == "bundle":
        print(f"log key {extra.log_key['key']} (from the bundle's own founding record, not pinned)")
    for c in report.cosignatures:
        label = c["key"].rpartition("+")[0]
        print(
            f"checkpoint of size {c['size']} is cosigned by witness {c['witness']} "
            f"(key {label}, given with --witness) at {_when(c['timestamp'])}"
        )
    if extra.bundle_witnesses:
        print(f"witnesses.json lists {len(extra.bundle_witnesses)} witness key(s): not trusted; "
              "give a witness's key with --witness")  # fmt: skip
    return code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        raise UsageError(f"--trusted {path} cannot be read") from None


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = _Parser(
        prog="python -m governance.offline.bundle", description="Verify a bundle offline."
    )
    parser.add_argument("directory", type=Path, help="the bundle directory")
    parser.add_argument("--log-key", help="the log's verifier key NAME+HEXID+BASE64, pinned")
    parser.add_argument("--witness", action="append", default=[], help="a witness key (repeat)")
    parser.add_argument(
        "--min-witnesses", type=int, help="how many --witness keys must cosign (default: all)"
    )
    parser.add_argument(
        "--trusted", action="append", default=[], type=Path, help="a checkpoint you hold (repeat)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    try:
        args = parser.parse_args(argv)
        pinned = None if args.log_key is None else note_keys.parse_verifier_key(args.log_key)
        if pinned is not None and pinned.sig_type != note_keys.SIG_ED25519:
            raise UsageError("--log-key is not an Ed25519 note signer key")
        if not args.directory.is_dir():
            raise UsageError(f"{args.directory} is not a directory")
        witnesses = [witness_key(k) for k in args.witness]
        if args.min_witnesses is not None and not 1 <= args.min_witnesses <= len(witnesses):
            raise UsageError("--min-witnesses must be between 1 and the number of --witness keys")
        if len(set(witnesses)) != len(witnesses):
            raise UsageError("a --witness key is given twice")
        trusted = [(str(path), _read(path)) for path in args.trusted]
        report = verify_bundle(args.directory, pinned, witnesses, trusted, args.min_witnesses)
    except (UsageError, ProofError) as error:
        print(f"verify: {error}", file=sys.stderr)
        return USAGE
    return render(report, args.json)


if __name__ == "__main__":
    sys.exit(main())
