"""The offline verifier (``python -m governance.offline.bundle``) on bundles exported from a real store.

One store is built per module (clock frozen at T0) and exported as three bundles: ``clean`` (a
witness-cosigned checkpoint covers every event, an older checkpoint has a consistency proof),
``tail`` (events after the only checkpoint) and ``bare`` (no checkpoint). Every tamper test copies
a bundle and changes it; ``reseal`` plays an insider holding every key, who rebuilds the leaves,
the manifest and a freshly signed checkpoint, so only the event-level rules can catch the forgery.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance import clock
from governance.application import WatchlistApp
from governance.domain.payload_fields import PAYLOAD_FIELDS
from governance.domain.vocabulary import Rank, Role
from governance.integrity import keys
from governance.integrity.sealing import MasterKey
from governance.integrity.signing import Signer
from governance.ledger import checkpoints, merkle, note_keys, notes, witness
from governance.ledger.leaves import leaf_data
from governance.ledger.log import Ledger
from governance.offline.bundle import main
from governance.services.export import export_bundle
from governance.storage.settings import StoreSettings
from governance.times import format_instant
from tests.conftest import T0, proposal

ORIGIN = "test.example/watchlist"
REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "correct horse battery staple"
WITNESS = "witness.example"


@dataclass
class Built:
    """The exported bundles, and the keys an insider would hold."""

    bundles: dict[str, Path]
    log_key: Ed25519PrivateKey
    signers: dict[str, Signer]
    witness_key: str
    checkpoint_size: int
    checkpoints: dict[str, str]

    @property
    def log(self) -> str:
        """The genuine log key, as a reader pins it out of band."""
        return note_keys.verifier_key(ORIGIN, self.log_key.public_key())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("offline")
    settings = StoreSettings(root / "home")
    MasterKey.create(settings.master_key_path)
    with clock.frozen(T0):
        app = WatchlistApp(settings)
        log_key = keys.generate()
        admin = Signer("ADMIN-01", keys.generate())
        app.officers.found(
            ORIGIN, "Alex Admin", Rank.INSPECTOR, admin, keys.public_b64(log_key.public_key())
        )
        signers = {"ADMIN-01": admin}
        for officer_id, rank, roles in (
            ("PC-1001", Rank.CONSTABLE, {Role.CUSTODIAN}),
            ("SUPT-2001", Rank.SUPERINTENDENT, {Role.AUTHORISER, Role.CUSTODIAN}),
            ("INSP-3001", Rank.INSPECTOR, {Role.REVIEWER}),
            ("PC-1002", Rank.CONSTABLE, {Role.CUSTODIAN}),
            ("PC-1003", Rank.CONSTABLE, {Role.CUSTODIAN}),
        ):
            signers[officer_id] = Signer(officer_id, keys.generate())
            app.officers.enrol(
                admin,
                officer_id,
                officer_id,
                rank,
                frozenset(roles),
                signers[officer_id].public_key,
            )
        entry = app.entries.propose(signers["PC-1001"], proposal())
        app.entries.authorise(signers["SUPT-2001"], entry.id, "Necessary and proportionate.")
        app.officers.change_rank(admin, "PC-1001", Rank.SERGEANT, "Promoted.")
        app.officers.change_roles(
            admin, "INSP-3001", frozenset({Role.REVIEWER, Role.LEGAL}), "Legal duties."
        )
        signers["PC-1003-old"] = signers["PC-1003"]
        signers["PC-1003"] = Signer("PC-1003", keys.generate())
        app.officers.rotate_key(admin, "PC-1003", signers["PC-1003"].public_key, "Laptop lost.")
        app.officers.revoke(admin, "PC-1002", "Left the force.")
        ledger = Ledger(app)
        first = ledger.checkpoint(log_key)
        size = ledger.size()
        bundles = {"bare": root / "bare"}
        export_bundle(app, bundles["bare"], [], [])
        entry = app.entries.propose(signers["PC-1001"], proposal())
        app.entries.authorise(signers["SUPT-2001"], entry.id, "Necessary and proportionate.")
        bundles["tail"] = root / "tail"
        export_bundle(app, bundles["tail"], [first], [])
        witness_key = witness.init_witness(
            root / "witness", WITNESS, str(ledger.log_verifier()), PASSPHRASE
        )
        last = witness.cosign(
            root / "witness", ledger.checkpoint(log_key), None, PASSPHRASE, 1_800_000_000
        )
        bundles["clean"] = root / "clean"
        export_bundle(app, bundles["clean"], [first, last], [witness_key])
        app.close()
    checkpoints = {"first": first, "last": last}
    return Built(bundles, log_key, signers, witness_key, size, checkpoints)


@pytest.fixture
def clean(built: Built, tmp_path: Path) -> Path:
    """A private copy of the clean bundle, to tamper with."""
    return Path(shutil.copytree(built.bundles["clean"], tmp_path / "bundle"))


def verify(bundle: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([str(bundle), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rows(bundle: Path, name: str = "events.jsonl") -> list[dict[str, Any]]:
    return [json.loads(line) for line in (bundle / name).read_text().splitlines()]


def write_rows(bundle: Path, items: list[dict[str, Any]], name: str = "events.jsonl") -> None:
    (bundle / name).write_text(
        "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in items)
    )


def rehash(bundle: Path) -> None:
    """Recompute the manifest's file hashes, so only the content checks can catch a change."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"] = {
        path.relative_to(bundle).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(bundle.rglob("*"))
        if path.is_file() and path.name != "manifest.json"
    }
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2))


def reseal(bundle: Path, log_key: Ed25519PrivateKey) -> None:
    """An insider with the log key rebuilds leaves, root and a checkpoint over events.jsonl."""
    events = rows(bundle)
    data = [
        leaf_data(e["stream"], e["version"], e["topic"], base64.b64decode(e["state"]))
        for e in events
    ]
    write_rows(
        bundle,
        [
            {"leaf_index": i, "position": e["position"], "hash": merkle.leaf_hash(d).hex()}
            for i, (e, d) in enumerate(zip(events, data, strict=True))
        ],
        "leaves.jsonl",
    )
    root = merkle.mth(data)
    for path in (bundle / "checkpoints").iterdir():
        path.unlink()
    body = checkpoints.Checkpoint(ORIGIN, len(events), root).body()
    (bundle / "checkpoints" / "001.txt").write_text(notes.sign_note(body, ORIGIN, log_key))
    (bundle / "proofs.json").write_text("[]")
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest.update(events=len(events), tree_size=len(events), root=base64.b64encode(root).decode())
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    rehash(bundle)


def state_of(row: dict[str, Any]) -> dict[str, Any]:
    outer: dict[str, Any] = json.loads(base64.b64decode(row["state"]))
    return outer


def with_state(row: dict[str, Any], outer: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(outer, separators=(",", ":"), sort_keys=True).encode()
    return {**row, "state": base64.b64encode(text).decode()}


def forge(bundle: Path, signer: Signer, topic: str, **changes: Any) -> dict[str, Any]:
    """Append a well-formed event signed by ``signer`` as a new stream; return its row."""
    events = rows(bundle)
    statement = {
        "format": "watchlist-event/1",
        "origin": ORIGIN,
        "stream": str(uuid4()),
        "version": 1,
        "type": topic,
        "recorded_at": format_instant(T0),
        "effective_at": format_instant(T0),
        "actor": signer.officer_id,
        "key_id": signer.key_id,
        "prev": "0" * 64,
        "payload": {
            "originator_topic": "watchlist:Consultation",
            "entry_id": str(uuid4()),
            "purpose": "Checking",
            "kind": "reveal",
        }
        if topic == "watchlist:Consultation.Recorded"
        else dict.fromkeys(PAYLOAD_FIELDS[topic]),  # the type's fields, so only its rules fail
        **changes,
    }
    signed = rfc8785.dumps(statement)
    outer = {
        "sealed": {},
        "signature": base64.b64encode(signer.sign(signed)).decode(),
        "statement": signed.decode(),
    }
    row = with_state(
        {
            "position": events[-1]["position"] + 1,
            "stream": statement["stream"],
            "version": 1,
            "topic": topic,
        },
        outer,
    )
    write_rows(bundle, [*events, row])
    return row


def where(row: dict[str, Any]) -> str:
    return f"stream {row['stream']} version {row['version']} position {row['position']}"


class TestVerdicts:
    def test_a_clean_bundle_whose_last_checkpoint_covers_every_event_is_ok(
        self, built: Built, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, err = verify(built.bundles["clean"], capsys, "--log-key", built.log)
        assert (code, err) == (0, "")
        assert out.startswith("OK: the checkpoint of size")
        assert f"log key {built.log} (pinned with --log-key)" in out

    def test_the_witness_cosignature_is_reported_by_name_and_time(
        self, built: Built, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = verify(built.bundles["clean"], capsys, "--witness", built.witness_key)
        assert code == 0
        label = built.witness_key.rpartition("+")[0]
        assert (
            f"cosigned by witness {WITNESS} (key {label}, given with --witness) "
            "at 2027-01-15T08:00:00+00:00"
        ) in out
        assert f"witness key {built.witness_key} (given with --witness)" in out
        code, out, _ = verify(
            built.bundles["clean"], capsys, "--witness", built.witness_key, "--json"
        )
        document = json.loads(out)
        assert document["status"] == "ok"
        assert [c["witness"] for c in document["cosignatures"]] == [WITNESS]
        assert [c["key"] for c in document["cosignatures"]] == [built.witness_key]
        assert [(a["kind"], a["key"], a["source"]) for a in document["anchors"]] == [
            ("witness", built.witness_key, "--witness")
        ]

    def test_the_pinned_log_key_of_the_store_is_accepted(
        self, built: Built, capsys: pytest.CaptureFixture[str]
    ) -> None:
        key = note_keys.verifier_key(ORIGIN, built.log_key.public_key())
        code, _, err = verify(built.bundles["clean"], capsys, "--log-key", key)
        assert (code, err) == (0, "")

    def test_events_after_the_last_checkpoint_are_an_unverified_tail_not_ok(
        self, built: Built, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, err = verify(built.bundles["tail"], capsys, "--log-key", built.log)
        assert (code, err) == (4, "")
        assert (
            f"UNVERIFIED TAIL: 2 events after the last checkpoint (size {built.checkpoint_size}) "
            "are not covered by any checkpoint"
        ) in out
        # (The verdict, not any "OK" that a base64 root or signature may happen to contain.)
        assert "OK:" not in out

    def test_a_bundle_without_a_checkpoint_is_an_unverified_tail(
        self, built: Built, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = verify(built.bundles["bare"], capsys, "--json", "--log-key", built.log)
        assert code == 4
        document = json.loads(out)
        assert document["status"] == "unverified-tail"
        assert document["checkpoint_size"] is None
        assert document["unverified_tail"] == document["events"] == built.checkpoint_size

    def test_the_verifier_runs_with_the_store_libraries_unimportable(self, built: Built) -> None:
        blocked = ("eventsourcing", "pydantic", "rfc8785", "typer", "rich", "psycopg")
        script = (
            "import runpy, sys\n"
            f"for name in {blocked!r}: sys.modules[name] = None\n"
            f"sys.argv = ['verify', {str(built.bundles['clean'])!r}, '--log-key', {built.log!r}]\n"
            "runpy.run_module('governance.offline.bundle', run_name='__main__')\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", script],
            check=False,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("OK")


class TestUsage:
    def test_a_missing_directory_is_a_usage_error(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, _, err = verify(tmp_path / "absent", capsys)
        assert code == 2
        assert err.count("\n") == 1
        assert "is not a directory" in err

    def test_a_directory_that_is_not_a_bundle_is_a_usage_error(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        (tmp_path / "manifest.json").write_text("{not json")
        code, _, err = verify(tmp_path, capsys)
        assert code == 2
        assert "not a bundle" in err

    def test_a_malformed_pinned_key_is_a_usage_error(
        self, built: Built, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, _, err = verify(built.bundles["clean"], capsys, "--log-key", "nonsense")
        assert code == 2
        assert "Traceback" not in err


class TestTampering:
    def test_an_edited_event_fails_its_signature_and_its_leaf_despite_a_rehashed_manifest(
        self, clean: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        events = rows(clean)
        index = next(i for i, e in enumerate(events) if e["topic"] == "watchlist:Entry.Authorised")
        outer = state_of(events[index])
        outer["statement"] = outer["statement"].replace("Necessary", "Nocessary")
        events[index] = with_state(events[index], outer)
        write_rows(clean, events)
        rehash(clean)
        code, _, err = verify(clean, capsys)
        assert code == 3
        assert f"{where(events[index])}: signature does not verify" in err
        assert f"{where(events[index])}: the event differs from its recorded Merkle leaf" in err
        assert "SHA-256 in manifest.json" not in err

    def test_an_edited_event_is_caught_by_the_manifest_hash_of_its_file(
        self, clean: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        events = rows(clean)
        outer = state_of(events[-1])
        outer["signature"] = base64.b64encode(bytes(64)).decode()
        events[-1] = with_state(events[-1], outer)
        write_rows(clean, events)
        code, _, err = verify(clean, capsys)
        assert code == 3
        assert "FAILED at bundle: events.jsonl does not match its SHA-256 in manifest.json" in err
        assert f"{where(events[-1])}: signature does not verify" in err

    def test_an_event_deleted_from_the_bundle_is_named(
        self, clean: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        events = rows(clean)
        proposed = next(e for e in events if e["topic"] == "watchlist:Entry.Proposed")
        authorised = next(
            e for e in events if e["stream"] == proposed["stream"] and e["version"] == 2
        )
        stream_events = [e for e in events if e["stream"] == proposed["stream"]]
        assert len(stream_events) == 2
        write_rows(clean, [e for e in events if e is not proposed])
        rehash(clean)
        code, _, err = verify(clean, capsys)
        assert code == 3
        assert f"{where(authorised)}: version 1 is missing (found 2)" in err
        assert f"{where(authorised)}: hash chain broken" in err
        assert (
            f"FAILED at merkle-log: leaf {events.index(proposed)} names position {proposed['position']}: no event"
            in err
        )
        assert "checkpoint root is not the root of the first" in err

    def test_two_events_swapped_in_store_order_are_named(
        self, clean: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        events = rows(clean)
        i = next(i for i, e in enumerate(events) if e["topic"] == "watchlist:Entry.Proposed")
        first, second = events[i], events[i + 1]
        events[i] = {**second, "position": first["position"]}
        events[i + 1] = {**first, "position": second["position"]}
        write_rows(clean, events)
        rehash(clean)
        code, _, err = verify(clean, capsys)
        assert code == 3
        assert f"{where(events[i])}: the event differs from its recorded Merkle leaf" in err
        assert f"{where(events[i + 1])}: the event differs from its recorded Merkle leaf" in err

    def test_lines_out_of_position_order_are_refused(
        self, clean: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        events = rows(clean)
        events[3], events[4] = events[4], events[3]
        write_rows(clean, events)
        rehash(clean)
        code, _, err = verify(clean, capsys)
        assert code == 3
        assert "FAILED at bundle: events.jsonl line 5 is out of store (position) order" in err

    def test_an_altered_leaf_hash_is_named(
        self, clean: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        leaves = rows(clean, "leaves.jsonl")
        leaves[5]["hash"] = hashlib.sha256(b"forged").hexdigest()
        write_rows(clean, leaves, "leaves.jsonl")
        rehash(clean)
        code, _, err = verify(clean, capsys)
        assert code == 3
        event = rows(clean)[5]
        assert f"{where(event)}: the event differs from its recorded Merkle leaf" in err

    def test_a_checkpoint_for_another_origin_is_refused(
        self, built: Built, clean: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        body = checkpoints.Checkpoint("other.example/watchlist", 3, merkle.EMPTY_ROOT).body()
        (clean / "checkpoints" / "900-other.txt").write_text(
            notes.sign_note(body, ORIGIN, built.log_key)
        )
        rehash(clean)
        code, _, err = verify(clean, capsys)
        assert code == 3
        assert (
            "FAILED at checkpoint:900-other.txt: checkpoint is for origin "
            f"'other.example/watchlist', not '{ORIGIN}'"
        ) in err

    def test_a_checkpoint_whose_root_does_not_match_the_events_is_refused(
        self, built: Built, clean: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        body = checkpoints.Checkpoint(ORIGIN, 3, hashlib.sha256(b"fork").digest()).body()
        (clean / "checkpoints" / "900-fork.txt").write_text(
            notes.sign_note(body, ORIGIN, built.log_key)
        )
        rehash(clean)
        code, _, err = verify(clean, capsys)
        assert code == 3
        assert (
            "FAILED at checkpoint:900-fork.txt: checkpoint root is not the root of the first 3"
            in err
        )

    def test_a_checkpoint_added_without_the_manifest_is_refused(
        self, built: Built, clean: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        shutil.copy(next((clean / "checkpoints").iterdir()), clean / "checkpoints" / "999.txt")
        code, _, err = verify(clean, capsys)
        assert code == 3
        assert "checkpoints/999.txt is not listed in manifest.json" in err

    def test_a_pinned_log_key_that_differs_fails(
        self, built: Built, capsys: pytest.CaptureFixture[str]
    ) -> None:
        other = note_keys.verifier_key(ORIGIN, keys.generate().public_key())
        code, _, err = verify(built.bundles["clean"], capsys, "--log-key", other)
        assert code == 3
        assert "FAILED at bundle: the pinned --log-key" in err
        assert "FAILED at checkpoint:" in err

    def test_an_altered_officer_registry_is_named(
        self, clean: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        officers = json.loads((clean / "officers.json").read_text())
        officer = next(o for o in officers if o["officer_id"] == "PC-1001")
        assert officer["rank"] == "sergeant"
        officer["rank"] = "superintendent"
        (clean / "officers.json").write_text(json.dumps(officers))
        rehash(clean)
        code, _, err = verify(clean, capsys)
        assert code == 3
        assert "officers.json gives {'officer_id': 'PC-1001', 'rank': 'superintendent'" in err
        assert "officers.json lacks {'officer_id': 'PC-1001', 'rank': 'sergeant'" in err

    def test_a_garbled_line_fails_without_a_traceback(
        self, clean: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with (clean / "events.jsonl").open("a") as handle:
            handle.write('{"position": "x"}\n[1, 2]\n')
        rehash(clean)
        code, _, err = verify(clean, capsys)
        assert code == 3
        assert "Traceback" not in err
        assert "events.jsonl" in err


class TestInsiderForgery:
    """Leaves, manifest and checkpoint rebuilt with the log key: only the event rules remain."""

    def test_a_well_formed_event_by_an_entitled_officer_verifies_after_resealing(
        self, built: Built, clean: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        forge(clean, built.signers["PC-1001"], "watchlist:Consultation.Recorded")
        reseal(clean, built.log_key)
        code, _, err = verify(clean, capsys, "--log-key", built.log)
        assert (code, err) == (0, "")

    @pytest.mark.parametrize(
        ("signer", "topic", "changes", "problem"),
        [
            ("PC-1002", "watchlist:Consultation.Recorded", {}, "after they were revoked"),
            (
                "PC-1003-old",
                "watchlist:Consultation.Recorded",
                {},
                "rotated out by officer PC-1003",
            ),
            ("INSP-3001", "watchlist:Entry.Proposed", {}, "held no role allowed to do this"),
            (
                "PC-1001",
                "watchlist:Consultation.Recorded",
                {"actor": "PC-9999"},
                "not an enrolled officer",
            ),
            (
                "PC-1001",
                "watchlist:Consultation.Recorded",
                {"origin": "other.example"},
                "not the store's origin",
            ),
            ("PC-1001", "watchlist:Consultation.Recorded", {"prev": "1" * 64}, "hash chain broken"),
            (
                "PC-1001",
                "watchlist:Consultation.Recorded",
                {"recorded_at": "2026-11-26T08:54:59.000000Z"},
                "a backdated insert",
            ),
            (
                "PC-1001",
                "watchlist:Origin.Founded",
                {},
                "a founding record that is not this store's",
            ),
        ],
    )
    def test_a_forged_event_is_refused_by_the_event_rules(
        self,
        built: Built,
        clean: Path,
        capsys: pytest.CaptureFixture[str],
        signer: str,
        topic: str,
        changes: dict[str, Any],
        problem: str,
    ) -> None:
        row = forge(clean, built.signers[signer], topic, **changes)
        reseal(clean, built.log_key)
        code, _, err = verify(clean, capsys)
        assert code == 3
        assert f"FAILED at {where(row)}: " in err
        assert problem in err


class TestExportBugs:
    def test_an_officer_change_committed_during_an_export_leaves_a_consistent_bundle(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        import governance.services.export

        settings = StoreSettings(tmp_path / "home")
        MasterKey.create(settings.master_key_path)
        with clock.frozen(T0):
            app = WatchlistApp(settings)
            log_key, admin = keys.generate(), Signer("ADMIN-01", keys.generate())
            app.officers.found(
                ORIGIN, "Alex Admin", Rank.INSPECTOR, admin, keys.public_b64(log_key.public_key())
            )
            officer = Signer("PC-1001", keys.generate())
            app.officers.enrol(
                admin,
                "PC-1001",
                "Officer",
                Rank.CONSTABLE,
                frozenset({Role.CUSTODIAN}),
                officer.public_key,
            )
            checkpoint = Ledger(app).checkpoint(log_key)
            write_lines = governance.services.export.write_lines

            def concurrent_writer(path: Path, lines: Any) -> None:
                write_lines(path, lines)
                if path.name == "leaves.jsonl":  # another officer's command commits meanwhile
                    app.officers.change_rank(admin, "PC-1001", Rank.SERGEANT, "Promoted.")

            monkeypatch.setattr(governance.services.export, "write_lines", concurrent_writer)
            export_bundle(app, tmp_path / "bundle", [checkpoint], [])
            app.close()
        pinned = note_keys.verifier_key(ORIGIN, log_key.public_key())
        code, _, err = verify(tmp_path / "bundle", capsys, "--log-key", pinned)
        assert code == 0, err


@pytest.fixture(scope="module")
def forged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle re-signed end to end with an attacker's keys: events, registry, log key, a
    checkpoint, and a "witness" of the genuine witness's name listed in its own witnesses.json."""
    root = tmp_path_factory.mktemp("forged")
    settings = StoreSettings(root / "home")
    MasterKey.create(settings.master_key_path)
    with clock.frozen(T0):
        app = WatchlistApp(settings)
        log_key, admin = keys.generate(), Signer("ADMIN-01", keys.generate())
        app.officers.found(
            ORIGIN, "Alex Admin", Rank.INSPECTOR, admin, keys.public_b64(log_key.public_key())
        )
        custodian = Signer("PC-1001", keys.generate())
        app.officers.enrol(
            admin, "PC-1001", "PC-1001", Rank.CONSTABLE, frozenset({Role.CUSTODIAN}),
            custodian.public_key,
        )  # fmt: skip
        app.entries.propose(custodian, proposal())
        ledger = Ledger(app)
        witness_key = witness.init_witness(
            root / "witness", WITNESS, str(ledger.log_verifier()), PASSPHRASE
        )
        last = witness.cosign(
            root / "witness", ledger.checkpoint(log_key), None, PASSPHRASE, 1_800_000_000
        )
        export_bundle(app, root / "bundle", [last], [witness_key])
        app.close()
    return root / "bundle"


def attacker_cosignature(checkpoint_text: str) -> tuple[str, str]:
    """A cosignature line over the checkpoint's body by a fresh key named as the real witness."""
    attacker = keys.generate()
    body = checkpoint_text[: checkpoint_text.index("\n\n") + 1]
    line = notes.cosign(body, WITNESS, attacker, 1_800_000_000)
    return line, note_keys.witness_verifier_key(WITNESS, attacker.public_key())


def only_log_signature(path: Path) -> str:
    """The checkpoint at ``path`` with every cosignature line removed (the log's line kept)."""
    text = path.read_text()
    head, _, block = text.partition("\n\n")
    return head + "\n\n" + block.splitlines(keepends=True)[0]


class TestAnchors:
    """The verdict is OK only when the bundle is tied to a key or checkpoint given outside it."""

    def test_a_valid_bundle_with_no_anchor_is_not_anchored_never_ok(
        self, built: Built, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, err = verify(built.bundles["clean"], capsys)
        assert (code, err) == (5, "")
        assert out.startswith("NOT ANCHORED:")
        assert "OK:" not in out
        assert "not anchored: the verdict rests only on keys in the bundle" in out
        assert f"log key {built.log} (from the bundle's own founding record, not pinned)" in out
        assert "cosigned" not in out  # witnesses.json is listed, never trusted
        code, out, _ = verify(built.bundles["clean"], capsys, "--json")
        document = json.loads(out)
        assert (document["status"], document["anchored"], document["anchors"]) == (
            "not-anchored", False, [],
        )  # fmt: skip
        assert document["log_key"] == {"key": built.log, "source": "bundle"}
        assert document["bundle_witnesses"] == [built.witness_key]
        assert document["cosignatures"] == []

    def test_a_bundle_forged_end_to_end_with_an_attackers_keys_is_never_ok(
        self, built: Built, forged: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = verify(forged, capsys)
        assert code == 5
        assert "NOT ANCHORED" in out
        assert "cosigned by witness" not in out
        code, _, err = verify(forged, capsys, "--log-key", built.log)
        assert code == 3
        assert "FAILED at bundle: the pinned --log-key" in err
        code, out, err = verify(forged, capsys, "--witness", built.witness_key)
        assert code == 3
        assert "FAILED at witness-policy: only 0 of the 1 witness(es) required" in err
        assert "cosigned by witness" not in out
        trusted = tmp_path / "cp.txt"
        trusted.write_text(built.checkpoints["last"])
        code, _, err = verify(forged, capsys, "--trusted", str(trusted))
        assert code == 3
        assert f"FAILED at trusted:{trusted}: note has no verified signature" in err

    def test_an_attackers_cosignature_under_the_witness_name_is_not_reported(
        self, built: Built, clean: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = max((clean / "checkpoints").iterdir())
        line, attacker_key = attacker_cosignature(path.read_text())
        path.write_text(only_log_signature(path) + line)
        (clean / "witnesses.json").write_text(json.dumps([attacker_key]))
        rehash(clean)
        code, out, err = verify(
            clean, capsys, "--log-key", built.log, "--witness", built.witness_key
        )
        assert code == 3
        assert "cosigned by witness" not in out
        assert "only 0 of the 1 witness(es) required cosigned a checkpoint covering all" in err
        code, out, _ = verify(clean, capsys, "--log-key", built.log)
        assert code == 0
        assert "cosigned by witness" not in out

    def test_a_fork_signed_with_the_compromised_log_key_is_not_cosigned_by_the_real_witness(
        self, built: Built, clean: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        genuine = max((clean / "checkpoints").iterdir()).read_text()
        real_line = genuine[genuine.index("\n\n") + 2 :].splitlines(keepends=True)[1]
        forge(clean, built.signers["PC-1001"], "watchlist:Consultation.Recorded")
        reseal(clean, built.log_key)
        fork = clean / "checkpoints" / "001.txt"
        line, attacker_key = attacker_cosignature(fork.read_text())
        fork.write_text(fork.read_text() + line)
        (clean / "witnesses.json").write_text(json.dumps([attacker_key]))
        rehash(clean)
        args = ("--log-key", built.log, "--witness", built.witness_key)
        code, out, err = verify(clean, capsys, *args)
        assert code == 3
        assert "cosigned by witness" not in out
        assert "FAILED at witness-policy" in err
        # The real witness's line copied from the genuine checkpoint does not verify on the fork.
        fork.write_text(fork.read_text() + real_line)
        rehash(clean)
        code, out, err = verify(clean, capsys, *args)
        assert code == 3
        assert "FAILED at checkpoint:001.txt: invalid signature for key witness.example+" in err
        assert "cosigned by witness" not in out

    def test_a_trusted_checkpoint_anchors_the_bundle_and_is_named(
        self, built: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        trusted = tmp_path / "cp.txt"
        trusted.write_text(built.checkpoints["first"])
        code, out, err = verify(built.bundles["clean"], capsys, "--trusted", str(trusted))
        assert (code, err) == (0, "")
        assert (
            f"trusted checkpoint {trusted} of size {built.checkpoint_size} (given with --trusted), "
            f"signed by log key {built.log}"
        ) in out
        code, out, _ = verify(built.bundles["clean"], capsys, "--trusted", str(trusted), "--json")
        (anchor,) = json.loads(out)["anchors"]
        assert anchor == {
            "kind": "trusted-checkpoint", "file": str(trusted), "size": built.checkpoint_size,
            "key": built.log, "source": "--trusted",
        }  # fmt: skip

    def test_a_trusted_checkpoint_beyond_the_bundle_shows_a_truncation(
        self, built: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        trusted = tmp_path / "cp.txt"
        trusted.write_text(built.checkpoints["last"])
        code, _, err = verify(built.bundles["bare"], capsys, "--trusted", str(trusted))
        assert code == 3
        assert f"FAILED at trusted:{trusted}: checkpoint size" in err
        assert "events were removed" in err

    def test_a_witness_policy_of_k_of_n_keys(
        self, built: Built, capsys: pytest.CaptureFixture[str]
    ) -> None:
        other = note_keys.witness_verifier_key("other.example", keys.generate().public_key())
        bundle = built.bundles["clean"]
        code, _, err = verify(bundle, capsys, "--witness", built.witness_key, "--witness", other)
        assert code == 3
        assert "only 1 of the 2 witness(es) required" in err
        assert "other.example+" in err
        code, out, _ = verify(
            bundle, capsys, "--witness", built.witness_key, "--witness", other,
            "--min-witnesses", "1",
        )  # fmt: skip
        assert code == 0
        assert f"witness key {built.witness_key} (given with --witness)" in out
        # A witness who cosigned only a checkpoint that leaves a tail does not meet the policy.
        code, _, err = verify(built.bundles["tail"], capsys, "--witness", built.witness_key)
        assert code == 3

    @pytest.mark.parametrize(
        "args",
        [
            ["--min-witnesses", "1"],
            ["--witness", "KEY", "--min-witnesses", "2"],
            ["--witness", "KEY", "--min-witnesses", "0"],
            ["--witness", "KEY", "--witness", "KEY"],
            ["--trusted", "/nonexistent/cp.txt"],
        ],
    )
    def test_a_bad_anchor_option_is_a_usage_error(
        self, built: Built, capsys: pytest.CaptureFixture[str], args: list[str]
    ) -> None:
        args = [built.witness_key if a == "KEY" else a for a in args]
        code, _, err = verify(built.bundles["clean"], capsys, *args)
        assert code == 2
        assert err.startswith("verify: ")

    def test_a_tail_without_an_anchor_is_not_anchored(
        self, built: Built, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = verify(built.bundles["tail"], capsys)
        assert code == 5
        assert "2 events after the last checkpoint are not covered by any checkpoint either" in out


class TestStrictLog:
    def test_leaves_out_of_event_order_are_refused(
        self, built: Built, clean: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        leaves = rows(clean, "leaves.jsonl")
        leaves[4], leaves[5] = leaves[5], leaves[4]
        for index, leaf in enumerate(leaves):
            leaf["leaf_index"] = index
        write_rows(clean, leaves, "leaves.jsonl")
        rehash(clean)
        code, _, err = verify(clean, capsys, "--log-key", built.log)
        assert code == 3
        assert (
            f"FAILED at merkle-log: leaves.jsonl line 6: leaf 5 names position "
            f"{leaves[5]['position']}, before the position {leaves[4]['position']} of an earlier "
            "leaf: leaves out of event order"
        ) in err

    def test_a_checkpoint_with_a_good_and_a_bad_line_by_the_log_key_is_refused(
        self, built: Built, clean: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = max((clean / "checkpoints").iterdir())
        text = path.read_text()
        log_line = text[text.index("\n\n") + 2 :].splitlines(keepends=True)[0]
        head, b64 = log_line.rstrip("\n").rsplit(" ", 1)
        raw = bytearray(base64.b64decode(b64))
        raw[-1] ^= 1
        path.write_text(text + f"{head} {base64.b64encode(bytes(raw)).decode()}\n")
        rehash(clean)
        code, _, err = verify(clean, capsys, "--log-key", built.log)
        assert code == 3
        assert f"FAILED at checkpoint:{path.name}: invalid signature for key {ORIGIN}+" in err
