"""Offline verifier of a watchlist bundle: ``python -m governance.offline.bundle DIR [--log-key KEY]``.

Needs only Python's standard library and ``cryptography``, and shares no code with the store's own
verifier. Following docs/bundle-format.md it checks, in order: the manifest's file hashes; every
event in store order (envelope, placement, versions and hash chain per stream, sealed-ciphertext
hashes, recording time, the signer's standing in an officer registry replayed from the events, the
Ed25519 signature); the Merkle leaves and root (RFC 9162); the log key; each signed checkpoint, its
witness cosignatures and the consistency proofs; and the exported officer registry.

Exit codes: 0 all verifies and the last checkpoint covers every event; 2 bad usage or not a bundle;
3 any failure; 4 no failure, but events after the last checkpoint (an unverified tail).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from governance.errors import ProofError
from governance.ledger import checkpoints, merkle, merkle_trees, merkle_verify, note_keys, notes
from governance.offline.events import (
    Event,
    Replay,
    Report,
    from_b64,
    key_id,
    to_int,
)

BUNDLE_FORMAT = "watchlist-bundle/1"
LEAF_FORMAT = b"watchlist-leaf/1\n"
READ = ("events.jsonl", "leaves.jsonl", "officers.json", "proofs.json", "witnesses.json")
CHECKPOINT = re.compile(r"checkpoints/[A-Za-z0-9_-][A-Za-z0-9._-]*\.txt")
REGISTRY = ("officer_id", "rank", "roles", "key_id", "status")


class UsageError(Exception):
    """Bad usage, or a directory that is not a bundle (exit 2)."""


def leaf_hash(event: Event) -> bytes:
    """RFC 6962 leaf hash of "watchlist-leaf/1\\n" stream \\n version \\n topic \\n sha256(state)."""
    text = (
        f"{event.stream}\n{event.version}\n{event.topic}\n{hashlib.sha256(event.state).hexdigest()}"
    )
    return merkle.leaf_hash(LEAF_FORMAT + text.encode())


def root_of(leaves: list[bytes], size: int) -> bytes:
    """MTH of the first ``size`` leaf hashes."""
    frontier = merkle_trees.Frontier()
    for leaf in leaves[:size]:
        frontier.append(leaf)
    return frontier.root()


def read_files(directory: Path, listed: dict[str, Any], report: Report) -> dict[str, bytes]:
    """Every file the verifier reads or the manifest lists, each checked against its SHA-256."""
    present = [p.relative_to(directory).as_posix() for p in directory.glob("checkpoints/*.txt")]
    contents: dict[str, bytes] = {}
    for name in sorted({*READ, *present, *listed}):
        if name not in READ and not CHECKPOINT.fullmatch(name):
            report.fail("bundle", f"manifest.json lists {name!r}, which is not a bundle file")
        elif not (directory / name).is_file():
            report.fail("bundle", f"{name} is missing from the bundle")
        elif name not in listed:
            report.fail("bundle", f"{name} is not listed in manifest.json")
        else:
            contents[name] = (directory / name).read_bytes()
            if hashlib.sha256(contents[name]).hexdigest() != listed[name]:
                report.fail("bundle", f"{name} does not match its SHA-256 in manifest.json")
    return contents


def json_lines(files: dict[str, bytes], name: str, report: Report) -> list[tuple[int, Any]]:
    """(line number, object) for each line of a .jsonl file; a line that is not one is a failure."""
    rows = []
    for number, line in enumerate(files.get(name, b"").splitlines(), start=1):
        try:
            rows.append((number, json.loads(line)))
        except ValueError:
            rows.append((number, None))
        if not isinstance(rows[-1][1], dict):
            report.fail("bundle", f"{name} line {number} is not a JSON object")
            rows.pop()
    return rows


def json_list(files: dict[str, bytes], name: str, report: Report, kind: type = dict) -> list[Any]:
    """The list in a .json file, each item a ``kind``; anything else is a failure."""
    try:
        items = json.loads(files.get(name) or b"[]")
    except ValueError:
        items = None
    if not isinstance(items, list) or not all(isinstance(item, kind) for item in items):
        report.fail("bundle", f"{name} is not a JSON list of the documented shape")
        return []
    return items


def read_events(files: dict[str, bytes], report: Report) -> list[Event]:
    """The rows of events.jsonl, which must be in strictly increasing position (store) order."""
    events: list[Event] = []
    for number, row in json_lines(files, "events.jsonl", report):
        try:
            position, version, state = to_int(row["position"]), to_int(row["version"]), row["state"]
            stream, topic, state = row["stream"], row["topic"], from_b64(state)
            if not isinstance(stream, str) or not isinstance(topic, str):
                raise TypeError("stream or topic is not a string")
        except (KeyError, TypeError, ValueError):
            report.fail("bundle", f"events.jsonl line {number} is not a well-formed event row")
            continue
        events.append(Event(position, stream, version, topic, state))
        if len(events) > 1 and position <= events[-2].position:
            report.fail("bundle", f"events.jsonl line {number} is out of store (position) order")
    return sorted(events, key=lambda event: event.position)


def check_leaves(events: list[Event], files: dict[str, bytes], report: Report) -> list[bytes]:
    """Recompute every event's leaf, match it by position with leaves.jsonl; return the leaves."""
    computed = [leaf_hash(event) for event in events]
    positions, recorded = {event.position for event in events}, {}
    for i, (number, row) in enumerate(json_lines(files, "leaves.jsonl", report)):
        index, position, digest = row.get("leaf_index"), row.get("position"), row.get("hash")
        if index != i or type(position) is not int or position in recorded:
            report.fail(
                "merkle-log", f"leaves.jsonl line {number} is not leaf {i} of a new position"
            )
        elif position not in positions:
            report.fail("merkle-log", f"leaf {i} names position {position}: no event", at=position)
        if type(position) is int:
            recorded[position] = digest
    for event, leaf in zip(events, computed, strict=True):
        if event.position not in recorded:
            report.fail("merkle-log", "the event has no leaf in leaves.jsonl", event)
        elif recorded[event.position] != leaf.hex():
            report.fail("merkle-log", "the event differs from its recorded Merkle leaf", event)
    return computed


def witness_key(text: Any) -> note_keys.Verifier:
    """Parse a cosignature/v1 (type 0x04) witness verifier key; ProofError if it is not one."""
    verifier = note_keys.parse_verifier_key(text) if isinstance(text, str) else None
    if verifier is None or verifier.sig_type != note_keys.SIG_COSIGNATURE_V1:
        raise ProofError(f"{text!r} is not a cosignature/v1 witness key")
    return verifier


def check_checkpoints(
    files: dict[str, bytes], log: note_keys.Verifier | None, witnesses: list[note_keys.Verifier],
    origin: str | None, leaves: list[bytes], report: Report,
) -> None:  # fmt: skip
    """Each checkpoint: signed by the log key, for this origin, matching the recomputed tree."""
    held: dict[int, bytes] = {}
    for name in sorted(n for n in files if n.startswith("checkpoints/")):
        where = f"checkpoint:{name.removeprefix('checkpoints/')}"
        try:
            note = notes.open_note(files[name], [log] if log else [], witnesses)
            checkpoint = checkpoints.parse_checkpoint(note.text)
        except ProofError as error:
            report.fail(where, error.message)
            continue
        size = checkpoint.size
        if checkpoint.origin != origin:
            report.fail(where, f"checkpoint is for origin {checkpoint.origin!r}, not {origin!r}")
        elif size > len(leaves):
            report.fail(where, f"checkpoint size {size} is beyond the {len(leaves)} events")
        elif checkpoint.root != root_of(leaves, size):
            report.fail(where, f"checkpoint root is not the root of the first {size} events")
        else:
            held[size] = checkpoint.root
            report.checkpoint_size = max(report.checkpoint_size or 0, size)
            report.cosignatures += [
                {"checkpoint": name, "size": size, "witness": c.name, "timestamp": c.timestamp}
                for c in note.cosignatures
            ]
    for number, item in enumerate(json_list(files, "proofs.json", report), start=1):
        try:
            old, new, path = to_int(item["old_size"]), item["new_size"], item["proof"]
            if new != len(leaves):
                raise ProofError(f"it ends at size {new}, not at the bundle's {len(leaves)}")
            old_root = held.get(old, root_of(leaves, old))
            path = [bytes.fromhex(element) for element in path]
            merkle_verify.verify_consistency(old, new, old_root, root_of(leaves, new), path)
        except (KeyError, TypeError, ValueError, ProofError) as error:
            report.fail("merkle-log", f"proofs.json entry {number} does not verify ({error})")


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
