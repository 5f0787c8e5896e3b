"""A witness: cosigns a log's checkpoints after checking the log only ever grew.

The witness keeps the last checkpoint it cosigned. It refuses a smaller one (rollback), a different
root at the same size (fork), and a larger one unless a consistency proof shows it extends the last
(otherwise also a fork). Cosignatures follow C2SP ``tlog-cosignature`` (cosignature/v1). The witness
key is Ed25519, kept encrypted in the witness's own state directory, apart from any store.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

from governance.errors import Conflict, InvalidInput, NotFound, ProofError
from governance.integrity import keys
from governance.ledger import checkpoints, merkle_verify, note_keys, notes

STATE_FILE = "witness.json"
KEY_FILE = "witness-key.pem"


@dataclass(frozen=True)
class WitnessState:
    """What a witness remembers: its name, the log it watches, the last checkpoint it cosigned."""

    name: str
    log_key: str
    size: int | None = None
    root: bytes | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "name": self.name,
                "log_key": self.log_key,
                "size": self.size,
                "root": None if self.root is None else base64.b64encode(self.root).decode(),
            },
            indent=2,
        )

    @classmethod
    def load(cls, state_dir: Path) -> WitnessState:
        try:
            data = json.loads((state_dir / STATE_FILE).read_text())
        except FileNotFoundError:
            raise NotFound(
                f"state: no witness at {state_dir}; run 'audit witness init' first"
            ) from None
        except (OSError, ValueError):
            raise InvalidInput(
                f"state: {state_dir / STATE_FILE} is not a witness state file"
            ) from None
        root = data.get("root")
        return cls(
            data["name"],
            data["log_key"],
            data.get("size"),
            None if root is None else base64.b64decode(root),
        )

    def save(self, state_dir: Path) -> None:
        """Replace the state file atomically."""
        temporary = state_dir / (STATE_FILE + ".tmp")
        temporary.write_text(self.to_json())
        os.replace(temporary, state_dir / STATE_FILE)


def init_witness(state_dir: Path, name: str, log_key: str, passphrase: str) -> str:
    """Create a witness for the log whose verifier key is ``log_key``; return the witness's key."""
    note_keys.parse_verifier_key(log_key)
    if (state_dir / STATE_FILE).exists():
        raise Conflict(f"state: {state_dir} already holds a witness")
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = keys.generate()
    verifier = note_keys.witness_verifier_key(name, private.public_key())
    keys.write_private_key(state_dir / KEY_FILE, private, passphrase)
    WitnessState(name, log_key).save(state_dir)
    return verifier


def witness_key(state_dir: Path, passphrase: str) -> str:
    """The witness's verifier key (``name+id+base64``)."""
    state = WitnessState.load(state_dir)
    private = keys.read_private_key(state_dir / KEY_FILE, passphrase)
    return note_keys.witness_verifier_key(state.name, private.public_key())


def cosign(
    state_dir: Path, signed_checkpoint: str, proof: list[bytes] | None, passphrase: str, now: int
) -> str:
    """Check ``signed_checkpoint`` against the last one cosigned and return it cosigned."""
    state = WitnessState.load(state_dir)
    log = note_keys.parse_verifier_key(state.log_key)
    note = notes.open_note(signed_checkpoint, [log])
    checkpoint = checkpoints.parse_checkpoint(note.text)
    if checkpoint.origin != log.name:
        raise ProofError(
            f"checkpoint origin '{checkpoint.origin}' is not the watched log '{log.name}'"
        )
    if state.size is not None and state.root is not None:
        check_extends(state.size, state.root, checkpoint, proof)
    private = keys.read_private_key(state_dir / KEY_FILE, passphrase)
    line = notes.cosign(note.text, state.name, private, now)
    WitnessState(state.name, state.log_key, checkpoint.size, checkpoint.root).save(state_dir)
    text = signed_checkpoint if signed_checkpoint.endswith("\n") else signed_checkpoint + "\n"
    return text + line


def check_extends(
    size: int, root: bytes, checkpoint: checkpoints.Checkpoint, proof: list[bytes] | None
) -> None:
    """Refuse a rollback or a fork relative to the last cosigned (size, root)."""
    if checkpoint.size < size:
        raise ProofError(
            f"rollback: checkpoint of size {checkpoint.size} is smaller than the {size} already cosigned"
        )
    if checkpoint.size == size:
        if checkpoint.root != root:
            raise ProofError(f"fork: a different root for size {size} was already cosigned")
        return
    if proof is None:
        raise ProofError(
            f"consistency: a proof from size {size} to {checkpoint.size} is needed to cosign"
        )
    try:
        merkle_verify.verify_consistency(size, checkpoint.size, root, checkpoint.root, proof)
    except ProofError:
        raise ProofError(
            f"fork: checkpoint of size {checkpoint.size} is not consistent with the cosigned size {size}"
        ) from None
