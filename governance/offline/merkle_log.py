"""The offline verifier's Merkle log checks: leaves, signed checkpoints, cosignatures, proofs.

Part of ``python -m governance.offline.bundle`` (see that module and docs/bundle-format.md): it
recomputes every event's leaf and the tree's roots (RFC 9162), then checks each checkpoint's log
signature, origin and root, its witness cosignatures, and the consistency proofs in proofs.json.
"""

from __future__ import annotations

import hashlib
from typing import Any

from governance.errors import ProofError
from governance.ledger import checkpoints, merkle, merkle_trees, merkle_verify, note_keys, notes
from governance.offline.events import Event, Report, to_int
from governance.offline.files import json_lines, json_list

LEAF_FORMAT = b"watchlist-leaf/1\n"


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


def check_leaves(events: list[Event], files: dict[str, bytes], report: Report) -> list[bytes]:
    """Recompute every event's leaf, match it by position with leaves.jsonl; return the leaves.

    Leaves are in event order: the positions they name must increase.
    """
    computed = [leaf_hash(event) for event in events]
    positions, recorded, last = {event.position for event in events}, {}, -1
    for i, (number, row) in enumerate(json_lines(files, "leaves.jsonl", report)):
        index, position, digest = row.get("leaf_index"), row.get("position"), row.get("hash")
        if index != i or type(position) is not int or position in recorded:
            report.fail(
                "merkle-log", f"leaves.jsonl line {number} is not leaf {i} of a new position"
            )
        elif position not in positions:
            report.fail("merkle-log", f"leaf {i} names position {position}: no event", at=position)
        elif position < last:
            report.fail(
                "merkle-log",
                f"leaves.jsonl line {number}: leaf {i} names position {position}, before the "
                f"position {last} of an earlier leaf: leaves out of event order",
                at=position,
            )
        if type(position) is int:
            recorded[position], last = digest, max(last, position)
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
    trusted: list[tuple[str, bytes]] | None = None,
) -> list[tuple[str, int]]:  # fmt: skip
    """Each checkpoint: signed by the log key, for this origin, matching the recomputed tree.

    ``witnesses`` are the witness keys given on the command line, never those the bundle lists:
    only their cosignatures are reported (by key). ``trusted`` are (file, bytes) of checkpoints
    held outside the bundle (``--trusted``); each must open with the log key and match the
    recomputed tree at its size. Returns the trusted checkpoints that did, as (file, size).
    """
    held: dict[int, bytes] = {}
    anchored: list[tuple[str, int]] = []
    bundled = [
        (n, files[n], False) for n in sorted(n for n in files if n.startswith("checkpoints/"))
    ]
    for name, data, outside in [*bundled, *((n, d, True) for n, d in trusted or [])]:
        where = f"trusted:{name}" if outside else f"checkpoint:{name.removeprefix('checkpoints/')}"
        try:
            note = notes.open_note(data, [log] if log else [], witnesses)
            checkpoint = checkpoints.parse_checkpoint(note.text)
        except ProofError as error:
            report.fail(where, error.message)
            continue
        size = checkpoint.size
        if checkpoint.origin != origin:
            report.fail(where, f"checkpoint is for origin {checkpoint.origin!r}, not {origin!r}")
        elif size > len(leaves):
            report.fail(where, f"checkpoint size {size} is beyond the {len(leaves)} events"
                        + (": events were removed, or the bundle is of another log" * outside))  # fmt: skip
        elif checkpoint.root != root_of(leaves, size):
            report.fail(where, f"checkpoint root is not the root of the first {size} events"
                        + (": history was rewritten or forked" * outside))  # fmt: skip
        else:
            held.setdefault(size, checkpoint.root)
            if outside:
                anchored.append((name, size))
            report.checkpoint_size = max(report.checkpoint_size or 0, size)
            report.cosignatures += [
                {"checkpoint": name, "size": size, "witness": c.name,
                 "key": str(c.key), "source": "--witness", "timestamp": c.timestamp}
                for c in note.cosignatures
            ]  # fmt: skip
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
    return anchored
