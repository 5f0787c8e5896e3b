"""C2SP signed notes, checkpoints, cosignatures (governance.ledger.notes, checkpoints, note_keys).

Known answers come from published sources, not from this code:

* golang.org/x/mod sumdb/note/note_test.go (TestNewVerifier, TestNewSigner, TestSign, TestOpen):
  the PeterNeumann and EnochRoot keys, the PeterNeumann signer key, the two signature lines over
  the "If you think cryptography..." text, and the two mangled verifier keys.
* transparency-dev/formats note/note_cosigv1_test.go (TestCoSigV1NewVerifier): the type 0x04
  witness key remora.n621.de+da77ade7+...
* florolf/tlog-scales tests/test_signing.py (TestCheckpointVerification): a real checkpoint of the
  arche2025h1.staging.ct.transparency.dev log cosigned by remora.n621.de, with the log's key.
"""

from __future__ import annotations

import base64
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.errors import ProofError
from governance.ledger.checkpoints import Checkpoint, parse_checkpoint
from governance.ledger.note_keys import (
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    key_id,
    parse_verifier_key,
    verifier_key,
    witness_verifier_key,
)
from governance.ledger.notes import Cosignature, add_signature, cosign, open_note, sign_note

PETER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_KEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)
GO_NOTE = TEXT + "\n" + PETER_SIG

REMORA_KEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
ARCHE_KEY = (
    "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
)
ARCHE_BODY = (
    "arche2025h1.staging.ct.transparency.dev\n1432088532\n"
    "U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n"
)
ARCHE_SIGNATURES = [
    "arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMH"
    "bdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=",
    "arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3Ny"
    "gNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=",
    "transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2r"
    "hIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==",
    "witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75"
    "W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==",
    "remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sX"
    "Tynk5XeU/zZ0WBxtqB0DrAWfBw==",
    "witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY"
    "/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==",
]
ARCHE_CHECKPOINT = ARCHE_BODY + "\n" + "".join(f"— {line}\n" for line in ARCHE_SIGNATURES)

BODY = Checkpoint("example.com/watchlist", 7, bytes(range(32))).body()


def peter_private_key() -> Ed25519PrivateKey:
    seed = base64.b64decode(PETER_SIGNER_KEY.split("+", 4)[4])
    assert seed[0] == SIG_ED25519
    return Ed25519PrivateKey.from_private_bytes(seed[1:])


def flip_signature_byte(line: str, index: int) -> str:
    head, b64 = line.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    raw[index] ^= 0x01
    return f"{head} {base64.b64encode(bytes(raw)).decode()}\n"


# --- signed-note: published known answers ------------------------------------------------------


def test_the_published_go_note_opens_with_the_published_verifier_key() -> None:
    note = open_note(GO_NOTE, [parse_verifier_key(PETER_KEY)])
    assert note.text == TEXT
    assert note.signatures == ("PeterNeumann",)
    assert note.cosignatures == ()


def test_the_published_go_note_opens_from_bytes() -> None:
    assert open_note(GO_NOTE.encode(), [parse_verifier_key(PETER_KEY)]).text == TEXT


def test_the_published_verifier_key_round_trips() -> None:
    verifier = parse_verifier_key(PETER_KEY)
    assert verifier.name == "PeterNeumann"
    assert verifier.sig_type == SIG_ED25519
    assert str(verifier) == PETER_KEY
    assert verifier_key("PeterNeumann", verifier.public_key) == PETER_KEY


def test_key_id_computation_matches_the_published_keys() -> None:
    peter = parse_verifier_key(PETER_KEY)
    enoch = parse_verifier_key(ENOCH_KEY)
    assert key_id("PeterNeumann", peter.public_key).hex() == "c74f20a3"
    assert key_id("EnochRoot", enoch.public_key).hex() == "af0cfe78"


def test_signing_with_the_published_signer_key_reproduces_the_published_note() -> None:
    key = peter_private_key()
    assert verifier_key("PeterNeumann", key.public_key()) == PETER_KEY
    assert sign_note(TEXT, "PeterNeumann", key) == GO_NOTE


def test_the_published_doubly_signed_note_verifies_both_signatures() -> None:
    known = [parse_verifier_key(PETER_KEY), parse_verifier_key(ENOCH_KEY)]
    note = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, known)
    assert note.signatures == ("PeterNeumann", "EnochRoot")


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann",
    ],
)
def test_mangled_verifier_keys_are_rejected(vkey: str) -> None:
    with pytest.raises(ProofError):
        parse_verifier_key(vkey)


def test_a_verifier_key_name_may_not_contain_spaces_or_plus() -> None:
    public = Ed25519PrivateKey.generate().public_key()
    for name in ["", "a b", "a+b", "tab\there"]:
        with pytest.raises(ProofError, match="invalid key name"):
            verifier_key(name, public)


# --- signed-note: round trips ------------------------------------------------------------------


def test_a_note_signed_here_opens_with_its_verifier_key() -> None:
    key = Ed25519PrivateKey.generate()
    signed = sign_note("watchlist v3\nentries 12\n", "police.example/watchlist", key)
    known = [parse_verifier_key(verifier_key("police.example/watchlist", key.public_key()))]
    note = open_note(signed, known)
    assert note.text == "watchlist v3\nentries 12\n"
    assert note.signatures == ("police.example/watchlist",)


def test_a_note_text_may_contain_blank_lines() -> None:
    key = Ed25519PrivateKey.generate()
    text = "first\n\nthird\n\n"
    known = [parse_verifier_key(verifier_key("k", key.public_key()))]
    assert open_note(sign_note(text, "k", key), known).text == text


def test_adding_a_signature_keeps_the_first_and_replaces_its_own() -> None:
    other = Ed25519PrivateKey.generate()
    twice = add_signature(GO_NOTE, "EnochRoot", other)
    assert twice.startswith(GO_NOTE)
    again = add_signature(twice, "EnochRoot", other)
    assert again == twice
    known = [
        parse_verifier_key(PETER_KEY),
        parse_verifier_key(verifier_key("EnochRoot", other.public_key())),
    ]
    assert open_note(again, known).signatures == ("PeterNeumann", "EnochRoot")


# --- signed-note: rejections -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signed", "problem"),
    [
        (TEXT + PETER_SIG, "no blank line"),
        (TEXT, "no blank line"),
        (TEXT + "\n", "signature block"),
        (TEXT + "\n" + PETER_SIG.rstrip("\n"), "does not end in a newline"),
        (TEXT + "\n" + PETER_SIG.replace("—", "-", 1), "em dash"),
        (TEXT + "\n" + PETER_SIG.replace("—", "--", 1), "em dash"),
        (TEXT + "\n" + PETER_SIG.replace("— ", "—", 1), "em dash"),
        (TEXT + "\n" + PETER_SIG + "Unexpected line.\n", "em dash"),
        ("\x01" + TEXT + "\n" + PETER_SIG, "control character"),
        (TEXT.replace("\n", "\r\n") + "\n" + PETER_SIG, "control character"),
        (TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name"), "base64"),
        (TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter+Neumann"), "invalid key name"),
        (TEXT + "\n" + PETER_SIG.replace("PeterNeumann ", "PeterNeumann  "), "base64"),
        (TEXT + "\n" + "— PeterNeumann AAAAAA==\n", "key id and signature"),
        (TEXT + "\n" + "— PeterNeumann x08go/Zg=\n", "base64"),
        (TEXT + "\n" + PETER_SIG * 101, "more than 100"),
        ("\n" + PETER_SIG, "no blank line"),
    ],
)
def test_malformed_notes_are_rejected(signed: str, problem: str) -> None:
    with pytest.raises(ProofError, match=problem):
        open_note(signed, [parse_verifier_key(PETER_KEY)])


def test_a_note_that_is_not_utf8_is_rejected() -> None:
    with pytest.raises(ProofError, match="UTF-8"):
        open_note(b"\xff" + GO_NOTE.encode(), [parse_verifier_key(PETER_KEY)])


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "text is empty"), ("no newline", "does not end in a newline"), ("a\tb\n", "control")],
)
def test_signing_a_malformed_text_is_refused(text: str, problem: str) -> None:
    with pytest.raises(ProofError, match=problem):
        sign_note(text, "k", Ed25519PrivateKey.generate())


@pytest.mark.parametrize("index", [0 + 4, 35, 67])
def test_a_known_key_whose_signature_fails_rejects_the_note(index: int) -> None:
    tampered = TEXT + "\n" + flip_signature_byte(PETER_SIG, index)
    with pytest.raises(ProofError, match="invalid signature for key PeterNeumann\\+c74f20a3"):
        open_note(tampered, [parse_verifier_key(PETER_KEY)])


def test_the_go_invalid_signature_case_is_rejected() -> None:
    # TestOpen's "Invalid signature": four base64 characters spliced into the signature.
    spliced = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(ProofError, match=r"invalid signature for key PeterNeumann\+c74f20a3"):
        open_note(TEXT + "\n" + spliced, [parse_verifier_key(PETER_KEY)])


def test_a_changed_text_fails_the_known_signature() -> None:
    with pytest.raises(ProofError, match="invalid signature"):
        open_note(GO_NOTE.replace("cryptography", "cryptographY"), [parse_verifier_key(PETER_KEY)])


def test_a_signature_from_an_unknown_key_is_ignored_when_a_known_one_verifies() -> None:
    note = open_note(TEXT + "\n" + ENOCH_SIG + PETER_SIG, [parse_verifier_key(PETER_KEY)])
    assert note.signatures == ("PeterNeumann",)


def test_a_broken_signature_from_an_unknown_key_is_ignored() -> None:
    broken = flip_signature_byte(ENOCH_SIG, 10)
    note = open_note(TEXT + "\n" + PETER_SIG + broken, [parse_verifier_key(PETER_KEY)])
    assert note.signatures == ("PeterNeumann",)


def test_a_note_signed_only_by_unknown_keys_is_rejected() -> None:
    with pytest.raises(ProofError, match="no verified signature"):
        open_note(TEXT + "\n" + ENOCH_SIG, [parse_verifier_key(PETER_KEY)])
    with pytest.raises(ProofError, match="no verified signature"):
        open_note(GO_NOTE, [])


def test_a_signature_sharing_only_the_name_of_a_known_key_is_ignored() -> None:
    impostor = Ed25519PrivateKey.generate()
    signed = add_signature(GO_NOTE, "PeterNeumann", impostor)
    assert open_note(signed, [parse_verifier_key(PETER_KEY)]).signatures == ("PeterNeumann",)


# --- tlog-checkpoint ---------------------------------------------------------------------------


def test_a_checkpoint_round_trips_through_its_body() -> None:
    checkpoint = Checkpoint("example.com/log", 20852163, bytes(32), ("ext one", "ext two"))
    body = checkpoint.body()
    assert body == (
        "example.com/log\n20852163\n"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next one\next two\n"
    )
    assert parse_checkpoint(body) == checkpoint


def test_an_empty_tree_checkpoint_has_size_zero() -> None:
    assert parse_checkpoint(Checkpoint("o", 0, bytes(32)).body()).size == 0


def test_the_published_checkpoint_body_parses() -> None:
    checkpoint = parse_checkpoint(ARCHE_BODY)
    assert checkpoint.origin == "arche2025h1.staging.ct.transparency.dev"
    assert checkpoint.size == 1432088532
    assert checkpoint.body() == ARCHE_BODY


ROOT64 = "U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro="


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (f"o\n012\n{ROOT64}\n", "leading zeros"),
        (f"o\n00\n{ROOT64}\n", "leading zeros"),
        (f"o\n-1\n{ROOT64}\n", "leading zeros"),
        (f"o\n+1\n{ROOT64}\n", "leading zeros"),
        (f"o\n 1\n{ROOT64}\n", "leading zeros"),
        (f"o\n\n{ROOT64}\n", "leading zeros"),
        (f"o\n\u0661\u0662\n{ROOT64}\n", "leading zeros"),
        (f"o\n{2**64}\n{ROOT64}\n", "out of range"),
        ("o\n1\nnot base64!\n", "base64"),
        (f"o\n1\n{ROOT64.rstrip('=')}\n", "base64"),
        ("o\n1\nU7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Rp=\n", "canonical base64"),
        (f"o\n1\n{base64.b64encode(bytes(31)).decode()}\n", "32 bytes"),
        (f"o\n1\n{base64.b64encode(bytes(33)).decode()}\n", "32 bytes"),
        ("o\n1\n", "needs origin"),
        ("o\n", "needs origin"),
        (f"o\n1\n{ROOT64}", "newline"),
        (f"\n1\n{ROOT64}\n", "origin"),
        (f"o\n1\n{ROOT64}\n\n", "extension"),
        (f"o\x07\n1\n{ROOT64}\n", "control"),
    ],
)
def test_malformed_checkpoints_are_rejected(body: str, problem: str) -> None:
    with pytest.raises(ProofError, match=problem):
        parse_checkpoint(body)


# --- tlog-cosignature --------------------------------------------------------------------------


def test_the_published_witness_key_uses_type_0x04_in_its_key_id() -> None:
    witness = parse_verifier_key(REMORA_KEY)
    assert witness.sig_type == SIG_COSIGNATURE_V1
    assert key_id("remora.n621.de", witness.public_key, SIG_COSIGNATURE_V1).hex() == "da77ade7"
    assert key_id("remora.n621.de", witness.public_key, SIG_ED25519).hex() != "da77ade7"
    assert witness_verifier_key("remora.n621.de", witness.public_key) == REMORA_KEY


def test_the_published_cosigned_checkpoint_verifies_log_and_witness() -> None:
    note = open_note(
        ARCHE_CHECKPOINT, [parse_verifier_key(ARCHE_KEY)], [parse_verifier_key(REMORA_KEY)]
    )
    assert note.text == ARCHE_BODY
    assert note.signatures == ("arche2025h1.staging.ct.transparency.dev",)
    assert note.cosignatures == (Cosignature("remora.n621.de", 1779573024),)


def test_a_cosignature_made_here_round_trips() -> None:
    log, witness = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    signed = sign_note(BODY, "example.com/watchlist", log) + cosign(
        BODY, "witness.example/w1", witness, 1_700_000_000
    )
    note = open_note(
        signed,
        [parse_verifier_key(verifier_key("example.com/watchlist", log.public_key()))],
        [parse_verifier_key(witness_verifier_key("witness.example/w1", witness.public_key()))],
    )
    assert note.cosignatures == (Cosignature("witness.example/w1", 1_700_000_000),)


def test_a_cosignature_line_carries_key_id_timestamp_and_signature() -> None:
    witness = Ed25519PrivateKey.generate()
    line = cosign(BODY, "w", witness, 1_700_000_000)
    raw = base64.b64decode(line.rstrip("\n").split(" ")[2])
    assert len(raw) == 4 + 8 + 64
    assert raw[:4] == key_id("w", witness.public_key(), SIG_COSIGNATURE_V1)
    assert struct.unpack(">Q", raw[4:12]) == (1_700_000_000,)
    message = b"cosignature/v1\ntime 1700000000\n" + BODY.encode()
    witness.public_key().verify(raw[12:], message)


def test_a_tampered_cosignature_timestamp_is_rejected() -> None:
    log, witness = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    line = flip_signature_byte(cosign(BODY, "w", witness, 1_700_000_000), 4 + 7)
    with pytest.raises(ProofError, match="invalid signature for key w\\+"):
        open_note(
            sign_note(BODY, "log", log) + line,
            [parse_verifier_key(verifier_key("log", log.public_key()))],
            [parse_verifier_key(witness_verifier_key("w", witness.public_key()))],
        )


def test_the_published_cosignature_with_a_changed_timestamp_is_rejected() -> None:
    remora = next(line for line in ARCHE_CHECKPOINT.splitlines() if "remora" in line) + "\n"
    tampered = ARCHE_CHECKPOINT.replace(remora, flip_signature_byte(remora, 11))
    with pytest.raises(ProofError, match=r"invalid signature for key remora\.n621\.de\+da77ade7"):
        open_note(tampered, [parse_verifier_key(ARCHE_KEY)], [parse_verifier_key(REMORA_KEY)])


def test_cosignatures_alone_do_not_open_a_note() -> None:
    with pytest.raises(ProofError, match="no verified signature"):
        open_note(ARCHE_CHECKPOINT, [], [parse_verifier_key(REMORA_KEY)])


def test_a_witness_key_is_refused_as_a_note_signer_and_vice_versa() -> None:
    with pytest.raises(ProofError, match="not a note signer key"):
        open_note(ARCHE_CHECKPOINT, [parse_verifier_key(REMORA_KEY)])
    with pytest.raises(ProofError, match="not a witness key"):
        open_note(
            ARCHE_CHECKPOINT, [parse_verifier_key(ARCHE_KEY)], [parse_verifier_key(ARCHE_KEY)]
        )


def test_cosigning_requires_a_checkpoint_and_a_timestamp_in_range() -> None:
    witness = Ed25519PrivateKey.generate()
    with pytest.raises(ProofError, match="malformed checkpoint"):
        cosign("just text\n", "w", witness, 1)
    with pytest.raises(ProofError, match="out of range"):
        cosign(BODY, "w", witness, 2**63)
    with pytest.raises(ProofError, match="out of range"):
        cosign(BODY, "w", witness, -1)


def test_a_second_line_by_a_key_whose_first_line_verifies_must_verify_too() -> None:
    # The first line by PeterNeumann verifies; the second, by the same key, does not.
    for second in (flip_signature_byte(PETER_SIG, 35), flip_signature_byte(PETER_SIG, 67)):
        with pytest.raises(ProofError, match=r"invalid signature for key PeterNeumann\+c74f20a3"):
            open_note(GO_NOTE + second, [parse_verifier_key(PETER_KEY)])
        with pytest.raises(ProofError, match=r"invalid signature for key PeterNeumann\+c74f20a3"):
            open_note(TEXT + "\n" + second + PETER_SIG, [parse_verifier_key(PETER_KEY)])


def test_a_repeated_valid_signature_counts_once() -> None:
    note = open_note(GO_NOTE + PETER_SIG, [parse_verifier_key(PETER_KEY)])
    assert note.signatures == ("PeterNeumann",)


def test_a_bad_second_cosignature_by_a_witness_rejects_the_note() -> None:
    log, witness = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    good = cosign(BODY, "witness.example/w1", witness, 1_700_000_000)
    bad = cosign(BODY, "witness.example/w1", witness, 1_700_000_001)
    bad = bad[:-10] + ("A" if bad[-10] != "A" else "B") + bad[-9:]
    signed = sign_note(BODY, "example.com/watchlist", log) + good + bad
    log_key = parse_verifier_key(verifier_key("example.com/watchlist", log.public_key()))
    witness_key = parse_verifier_key(
        witness_verifier_key("witness.example/w1", witness.public_key())
    )
    with pytest.raises(ProofError, match=r"invalid signature for key witness\.example/w1"):
        open_note(signed, [log_key], [witness_key])
    note = open_note(sign_note(BODY, "example.com/watchlist", log) + good, [log_key], [witness_key])
    assert note.cosignatures[0].key == witness_key
