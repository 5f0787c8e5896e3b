"""One key, two officers: a public key registered to one officer is refused for another."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.integrity import keys
from tests.cli.conftest import PASSPHRASE, Cli
from tests.cli.test_refusals import REFUSED, refused


def key_file_of(store: Cli, officer_id: str, tmp_path: Path) -> Path:
    """A PEM file of the public key registered to ``officer_id``."""
    private = keys.read_private_key(store.home / "keys" / f"{officer_id}.pem", PASSPHRASE)
    path = tmp_path / f"{officer_id}.pub.pem"
    path.write_bytes(keys.public_pem(private.public_key()))
    return path


def test_enrolling_a_second_officer_with_a_registered_key_is_refused(
    store: Cli, tmp_path: Path
) -> None:
    refused(
        store,
        "officer",
        "enrol",
        "SUPT-9001",
        "--name",
        "Second Identity",
        "--rank",
        "superintendent",
        "--role",
        "authoriser",
        "--public-key",
        str(key_file_of(store, "PC-1001", tmp_path)),
        code=REFUSED,
        says=["public-key", "already registered to officer PC-1001"],
        officer="ADMIN-01",
    )


@pytest.mark.parametrize("holder", ["SUPT-2001", "ADMIN-01"])
def test_rotating_to_another_officers_key_is_refused(
    store: Cli, tmp_path: Path, holder: str
) -> None:
    refused(
        store,
        "officer",
        "rotate-key",
        "PC-1001",
        "--reason",
        "New laptop.",
        "--public-key",
        str(key_file_of(store, holder, tmp_path)),
        code=REFUSED,
        says=["public-key", f"already registered to officer {holder}"],
        officer="ADMIN-01",
    )


def test_a_key_rotated_out_is_still_not_anothers(store: Cli, tmp_path: Path) -> None:
    old = key_file_of(store, "PC-1001", tmp_path)
    new = tmp_path / "new.pub.pem"
    new.write_bytes(keys.public_pem(keys.generate().public_key()))
    store.ok(
        "officer", "rotate-key", "PC-1001", "--reason", "Lost.", "--public-key", str(new),
        officer="ADMIN-01",
    )  # fmt: skip
    refused(
        store,
        "officer",
        "enrol",
        "PC-9002",
        "--name",
        "Reuse",
        "--rank",
        "constable",
        "--role",
        "custodian",
        "--public-key",
        str(old),
        code=REFUSED,
        says=["already registered to officer PC-1001"],
        officer="ADMIN-01",
    )
