"""The Merkle verifier against the transparency-dev/merkle proof vectors.

The vectors live in ``tests/data/merkle/`` (source and licence in its SOURCE.md). Only
``inclusion/`` and ``consistency/`` are copied and run. Upstream's ``subtreeinclusion/`` and
``subtreeconsistency/`` directories are left out on purpose: they test proofs about an arbitrary
subtree [start, end) of a larger tree (the Merkle Tree Certificates draft), with their own validity
rules ("invalid subtree", "oob left", start/end near 2**63 and so on). Those do not map cleanly onto
plain RFC 9162 inclusion/consistency semantics: the start == 0 subtree-inclusion cases merely repeat
the ``inclusion/`` vectors, and the rest would need a subtree verifier this module does not have.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from governance.errors import ProofError
from governance.ledger.merkle import consistency_proof, inclusion_proof
from governance.ledger.merkle_trees import InMemoryTree
from governance.ledger.merkle_verify import verify_consistency, verify_inclusion

VECTORS = Path(__file__).resolve().parents[1] / "data" / "merkle"

# Where this verifier is deliberately stricter than the Go reference (SOURCE.md allows it): every
# hash must be exactly 32 bytes. The reference accepts equal sizes with equal 12-byte "roots".
STRICTER_THAN_REFERENCE = {
    "consistency/additional/sizes-are-equal-one-and-proof-is-empty": "must be 32 bytes",
}

# The eight RFC 6962 test leaves from which the Go repository derived its vectors.
RFC6962_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]


def _vector_files(kind: str) -> list[Path]:
    folder = VECTORS / kind
    if not folder.is_dir():
        raise FileNotFoundError(f"Merkle test vectors missing: {folder} (see SOURCE.md)")
    files = sorted(folder.rglob("*.json"))
    if not files:
        raise FileNotFoundError(f"no Merkle test vectors under {folder}")
    return files


def _vector_id(path: Path) -> str:
    return path.relative_to(VECTORS).with_suffix("").as_posix()


def _params(kind: str) -> list[Any]:
    return [pytest.param(path, id=_vector_id(path)) for path in _vector_files(kind)]


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    assert isinstance(data["wantErr"], bool), f"{path} has no boolean wantErr"
    return data


def _proof(data: dict[str, Any]) -> list[bytes]:
    return [_b64(element) for element in data["proof"] or []]


def _rfc6962_tree() -> InMemoryTree:
    tree = InMemoryTree()
    for leaf in RFC6962_LEAVES:
        tree.append(leaf)
    return tree


def test_the_vector_directories_hold_the_expected_number_of_cases() -> None:
    assert len(_vector_files("inclusion")) == 98
    assert len(_vector_files("consistency")) == 98


@pytest.mark.parametrize("path", _params("inclusion"))
def test_each_inclusion_vector_verifies_exactly_when_no_error_is_expected(path: Path) -> None:
    data = _load(path)

    def check() -> None:
        verify_inclusion(
            _b64(data["leafHash"]),
            data["leafIdx"],
            data["treeSize"],
            _proof(data),
            _b64(data["root"]),
        )

    if data["wantErr"]:
        with pytest.raises(ProofError):
            check()
    else:
        check()


@pytest.mark.parametrize("path", _params("consistency"))
def test_each_consistency_vector_verifies_exactly_when_no_error_is_expected(path: Path) -> None:
    data = _load(path)

    def check() -> None:
        verify_consistency(
            data["size1"], data["size2"], _b64(data["root1"]), _b64(data["root2"]), _proof(data)
        )

    strict_reason = STRICTER_THAN_REFERENCE.get(_vector_id(path))
    if strict_reason is not None:
        assert not data["wantErr"], "a stricter-than-reference case must be one Go accepts"
        with pytest.raises(ProofError, match=strict_reason):
            check()
    elif data["wantErr"]:
        with pytest.raises(ProofError):
            check()
    else:
        check()


def _happy_paths(kind: str) -> list[Any]:
    return [
        pytest.param(path, id=_vector_id(path))
        for path in _vector_files(kind)
        if path.name == "happy-path.json" and path.parent.name.isdigit()
    ]


@pytest.mark.parametrize("path", _happy_paths("inclusion"))
def test_the_generated_inclusion_proof_equals_the_reference_happy_path(path: Path) -> None:
    data = _load(path)
    tree = _rfc6962_tree()

    assert tree.root(data["treeSize"]) == _b64(data["root"])
    assert inclusion_proof(data["leafIdx"], data["treeSize"], tree.get_node) == _proof(data)


@pytest.mark.parametrize("path", _happy_paths("consistency"))
def test_the_generated_consistency_proof_equals_the_reference_happy_path(path: Path) -> None:
    data = _load(path)
    tree = _rfc6962_tree()

    assert tree.root(data["size1"]) == _b64(data["root1"])
    assert tree.root(data["size2"]) == _b64(data["root2"])
    assert consistency_proof(data["size1"], data["size2"], tree.get_node) == _proof(data)
