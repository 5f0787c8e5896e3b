"""The store's global Merkle log: roots, signed checkpoints, inclusion and consistency proofs.

Every event is a leaf, in store order (``governance.ledger.leaves``). A checkpoint is a C2SP
``tlog-checkpoint`` signed note over (origin, tree size, root), signed with the store's log key,
whose public half is named in the founding record. Anyone holding an old checkpoint can demand a
consistency proof that today's log extends it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.application import WatchlistApp
from governance.errors import InvalidInput, NotFound, ProofError
from governance.integrity import keys
from governance.ledger import checkpoints, merkle, note_keys, notes


@dataclass(frozen=True)
class InclusionProof:
    """Proof that the event at ``position`` is leaf ``leaf_index`` of the tree of ``tree_size``."""

    position: int
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    proof: list[bytes]
    root: bytes


@dataclass(frozen=True)
class ConsistencyProof:
    """Proof that the tree of ``new_size`` extends the tree of ``old_size``."""

    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    proof: list[bytes]


class Ledger:
    """The Merkle log of one store."""

    def __init__(self, app: WatchlistApp) -> None:
        self.app = app
        self.recorder = app.store_recorder

    @property
    def origin(self) -> str:
        return self.app.verifier.founding.origin

    def log_verifier(self) -> note_keys.Verifier:
        """The log's public key as a signed-note verifier (named by the origin)."""
        raw = base64.b64decode(self.app.verifier.founding.log_public_key)
        return note_keys.parse_verifier_key(note_keys.verifier_key(self.origin, raw))

    def size(self) -> int:
        """Number of leaves (events) in the log."""
        return self.recorder.tree_size()

    def root(self, size: int | None = None) -> bytes:
        """The root of the first ``size`` leaves (default: all), from stored nodes in O(log n)."""
        size = self.size() if size is None else size
        return merkle.root(size, self.recorder.tree_nodes().node)

    def checkpoint(self, log_key: Ed25519PrivateKey) -> str:
        """A signed checkpoint of the log as it stands now."""
        expected = self.log_verifier().public_key
        if keys.public_raw(log_key.public_key()) != expected:
            raise InvalidInput("log key: this key is not the log key named in the founding record")
        size = self.size()
        body = checkpoints.Checkpoint(self.origin, size, self.root(size)).body()
        return notes.sign_note(body, self.origin, log_key)

    def inclusion(self, position: int) -> InclusionProof:
        """Inclusion proof for the event at store ``position`` in the current tree."""
        reader = self.recorder.tree_nodes()
        index = reader.leaf_index(position)
        if index is None:
            raise NotFound(f"position: no event at position {position} in the log")
        size = self.size()
        proof = merkle.inclusion_proof(index, size, reader.node)
        return InclusionProof(position, index, size, reader.node(0, index), proof, self.root(size))

    def consistency(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """Consistency proof between two sizes of this log."""
        new_size = self.size() if new_size is None else new_size
        if not 0 < old_size <= new_size <= self.size():
            raise InvalidInput(
                f"from-size: must be between 1 and {new_size} (the log has {self.size()} leaves)"
            )
        reader = self.recorder.tree_nodes()
        proof = merkle.consistency_proof(old_size, new_size, reader.node)
        return ConsistencyProof(old_size, new_size, self.root(old_size), self.root(new_size), proof)


def open_checkpoint(text: str, verifier: note_keys.Verifier, origin: str) -> checkpoints.Checkpoint:
    """A checkpoint signed by this log's key for this origin, or ``ProofError``."""
    note = notes.open_note(text, [verifier])
    checkpoint = checkpoints.parse_checkpoint(note.text)
    if checkpoint.origin != origin:
        raise ProofError(
            f"checkpoint is for origin '{checkpoint.origin}', not this store's '{origin}'"
        )
    return checkpoint


def read_log_key(path: Path, passphrase: str) -> Ed25519PrivateKey:
    """Unlock the store's log key."""
    return keys.read_private_key(path, passphrase)
