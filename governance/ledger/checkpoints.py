"""tlog-checkpoint note bodies (c2sp.org/tlog-checkpoint): origin, tree size, root hash, extensions.

A checkpoint is the text a log signs as a note (``governance.ledger.notes``): origin, tree size and
base64 root hash lines, then optional extension lines. Parsing is strict (canonical decimal size,
canonical 32-byte root) and every failure raises ``ProofError`` with a one-line message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from governance.errors import ProofError
from governance.ledger.note_encoding import b64, b64decode, check_chars

_MAX_TREE_SIZE = 2**64 - 1
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint note body: origin, tree size, 32-byte root hash, extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise _bad_checkpoint("origin must be one non-empty line")
        if not 0 <= self.size <= _MAX_TREE_SIZE:
            raise _bad_checkpoint("tree size is out of range")
        if len(self.root) != 32:
            raise _bad_checkpoint("root hash is not 32 bytes")
        if any(not line or "\n" in line for line in self.extensions):
            raise _bad_checkpoint("extension lines must be single non-empty lines")
        check_chars(self.body(), "malformed checkpoint")

    def body(self) -> str:
        """The note text: origin, size and base64 root lines, then extension lines."""
        lines = [self.origin, str(self.size), b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note body strictly (canonical decimal size, canonical 32-byte root)."""
    if not text.endswith("\n"):
        raise _bad_checkpoint("text does not end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise _bad_checkpoint("needs origin, tree size and root hash lines")
    origin, size, root64, *extensions = lines
    if not _TREE_SIZE.fullmatch(size):
        raise _bad_checkpoint("tree size is not a decimal number without leading zeros")
    root = b64decode(root64)
    if root is None:
        raise _bad_checkpoint("root hash is not canonical base64")
    return Checkpoint(origin, int(size), root, tuple(extensions))


def _bad_checkpoint(problem: str) -> ProofError:
    return ProofError(f"malformed checkpoint: {problem}")
