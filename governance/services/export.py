"""The offline bundle: everything a third party needs to verify the record with no store.

Layout (``docs/bundle-format.md``): ``manifest.json``, ``events.jsonl`` (every event exactly as
stored, in store order), ``leaves.jsonl`` (the stored Merkle leaves), ``officers.json`` (the registry
as the store reads it), ``checkpoints/`` (signed, possibly cosigned, checkpoints), ``proofs.json``
(consistency proofs from each checkpoint to the bundle's tree) and ``witnesses.json``.
Personal data is only ever present as ciphertext; data keys are never exported.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance import clock
from governance.application import WatchlistApp
from governance.domain.permissions import Action
from governance.domain.rules import check_text
from governance.errors import Conflict, InvalidInput
from governance.integrity import keys
from governance.integrity.signing import Signer
from governance.ledger import merkle, note_keys
from governance.ledger.log import Ledger, open_checkpoint
from governance.times import format_instant

FORMAT = "watchlist-bundle/1"
PAGE = 1000


def export_record(
    app: WatchlistApp,
    signer: Signer,
    directory: Path,
    checkpoints: Sequence[str],
    witness_keys: Sequence[str],
    purpose: str,
    recipient: str,
    log_key: Callable[[], Ed25519PrivateKey] | None,
) -> dict[str, Any]:
    """``watchlist audit export``: a legal officer takes the record out, and the disclosure is logged.

    The officer's standing is checked (fresh) before anything else, so nobody is asked for the log
    key's passphrase (``log_key`` unlocks it) who may not export. With ``log_key``, a fresh
    checkpoint is signed and included; the disclosure is recorded once the bundle is written.
    """
    app.authenticate(signer, Action.EXPORT_RECORD, fresh=True)
    check_text("purpose", purpose)
    texts = list(checkpoints)
    if log_key is not None:
        texts.append(Ledger(app).checkpoint(log_key()))
    manifest = export_bundle(app, directory, texts, witness_keys)
    scope = f"bundle of {manifest['events']} events, tree root {manifest['root']}"
    app.disclosures.record(signer, purpose, recipient, scope)
    return manifest


def export_bundle(
    app: WatchlistApp,
    directory: Path,
    checkpoints: Sequence[str],
    witness_keys: Sequence[str],
) -> dict[str, Any]:
    """Write a bundle into the empty or new ``directory``; return its manifest."""
    if directory.exists() and any(directory.iterdir()):
        raise Conflict(f"directory: {directory} is not empty")
    for key in witness_keys:
        note_keys.parse_verifier_key(key)
    ledger = Ledger(app)
    verifier = ledger.log_verifier()
    opened = [(text, open_checkpoint(text, verifier, ledger.origin)) for text in checkpoints]
    size = ledger.size()
    for _, checkpoint in opened:
        if checkpoint.size > size:
            raise InvalidInput(
                f"checkpoint: size {checkpoint.size} is beyond this log's {size} leaves"
            )
    (directory / "checkpoints").mkdir(parents=True, exist_ok=True)
    write_lines(directory / "events.jsonl", event_lines(app, size))
    write_lines(directory / "leaves.jsonl", leaf_lines(app, size))
    officers = registry_at(app, last_position(app, size))
    (directory / "officers.json").write_text(json.dumps(officers, indent=2))
    proofs = []
    for number, (text, checkpoint) in enumerate(
        sorted(opened, key=lambda item: item[1].size), start=1
    ):
        (directory / "checkpoints" / f"{number:03d}-size-{checkpoint.size}.txt").write_bytes(
            text.encode()
        )
        if checkpoint.size < size:
            proof = ledger.consistency(checkpoint.size, size)
            proofs.append(
                {
                    "old_size": proof.old_size,
                    "new_size": size,
                    "proof": [p.hex() for p in proof.proof],
                }
            )
    (directory / "proofs.json").write_text(json.dumps(proofs, indent=2))
    (directory / "witnesses.json").write_text(json.dumps(list(witness_keys), indent=2))
    files = {
        path.relative_to(directory).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }
    manifest = {
        "format": FORMAT,
        "origin": ledger.origin,
        "log_key": str(verifier),
        "founding_key_id": keys.key_id(app.verifier.founding.admin_public_key),
        "events": size,
        "tree_size": size,
        "root": base64.b64encode(ledger.root(size) if size else merkle.EMPTY_ROOT).decode(),
        "created_at": format_instant(clock.now()),
        "files": files,
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def last_position(app: WatchlistApp, size: int) -> int:
    """The store position of the ``size``-th leaf (0 for an empty log)."""
    if size == 0:
        return 0
    rows = app.store_recorder.tree_nodes().leaves(size - 1, 1)
    return rows[0][1]


def registry_at(app: WatchlistApp, position: int) -> list[dict[str, Any]]:
    """Every officer's standing after the events up to ``position``, as the bundle's events say."""
    registry = []
    for note in app.notifications(["watchlist:Officer.Enrolled"]):
        if note.id > position:
            break
        officer_id = str(app.codec.decode(note.state).payload["officer_id"])
        state = app.verifier.officer_at(officer_id, position + 1)
        if state is not None:
            registry.append(
                {
                    "officer_id": state.officer_id,
                    "rank": state.rank.value,
                    "roles": sorted(state.roles),
                    "key_id": state.key_id,
                    "status": state.status,
                }
            )
    return registry


def event_lines(app: WatchlistApp, size: int) -> Iterator[dict[str, Any]]:
    """Every event as stored, in store order, up to the log's ``size`` leaves."""
    start, seen = 1, 0
    while seen < size:
        page = app.recorder.select_notifications(start, PAGE)
        for note in page[: size - seen]:
            seen += 1
            yield {
                "position": note.id,
                "stream": str(note.originator_id),
                "version": note.originator_version,
                "topic": note.topic,
                "state": base64.b64encode(note.state).decode("ascii"),
            }
        if len(page) < PAGE:
            return
        start = page[-1].id + 1


def leaf_lines(app: WatchlistApp, size: int) -> Iterator[dict[str, Any]]:
    """The stored Merkle leaves, in leaf order."""
    reader = app.store_recorder.tree_nodes()
    start = 0
    while start < size:
        page = reader.leaves(start, min(PAGE, size - start))
        if not page:
            return
        for index, position, digest in page:
            yield {"leaf_index": index, "position": position, "hash": digest.hex()}
        start = page[-1][0] + 1


def write_lines(path: Path, rows: Iterator[dict[str, Any]]) -> None:
    """Write one compact JSON document per line."""
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, separators=(",", ":")) + "\n")
