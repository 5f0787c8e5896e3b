"""Reading a bundle's files for the offline verifier: each checked against the manifest's SHA-256.

Part of ``python -m governance.offline.bundle`` (see that module and docs/bundle-format.md): the
files it reads, the JSON shapes it accepts, and the event rows in store order. A file that is
missing, unlisted, altered or malformed is reported as a failure, never raised.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from governance.offline.events import Event, Report, from_b64, to_int

READ = ("events.jsonl", "leaves.jsonl", "officers.json", "proofs.json", "witnesses.json")
CHECKPOINT = re.compile(r"checkpoints/[A-Za-z0-9_-][A-Za-z0-9._-]*\.txt")


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
