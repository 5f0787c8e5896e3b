"""audit checkpoint, log-key, prove, verify --trusted, witness and export through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from governance.ledger import checkpoints, note_keys, notes
from tests.cli.conftest import Cli


def checkpoint(store: Cli, path: Path) -> str:
    result = store.run("audit", "checkpoint", "--output", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == path.read_text()
    return result.stdout


class TestCheckpoints:
    def test_a_checkpoint_is_a_signed_note_verifiable_with_the_published_log_key(
        self, store: Cli, tmp_path: Path
    ) -> None:
        text = checkpoint(store, tmp_path / "cp.txt")
        key = store.ok("audit", "log-key")["log_key"]
        note = notes.open_note(text, [note_keys.parse_verifier_key(key)])
        parsed = checkpoints.parse_checkpoint(note.text)
        assert parsed.origin == "test.example/watchlist"
        assert parsed.size == 7
        assert text.splitlines()[3] == ""
        assert text.splitlines()[4].startswith("\u2014 test.example/watchlist ")

    def test_a_wrong_log_passphrase_is_refused_without_echoing_it(self, store: Cli) -> None:
        result = store.run(
            "audit", "checkpoint", env={"WATCHLIST_LOG_PASSPHRASE": "not the passphrase"}
        )
        assert result.exit_code == 1
        assert "could not unlock" in result.stderr
        assert "not the passphrase" not in result.stderr + result.stdout


class TestVerifyAgainstTrustedCheckpoints:
    def test_the_store_extends_a_checkpoint_taken_earlier(
        self, store: Cli, active_entry: str, tmp_path: Path
    ) -> None:
        checkpoint(store, tmp_path / "cp.txt")
        result = store.ok("audit", "verify", "--trusted", str(tmp_path / "cp.txt"))
        assert (result["ok"], result["verdict"], result["unverified_tail"]) == (True, "verified", 0)
        store.ok("entry", "remove", active_entry, "--reason", "case_closed", officer="PC-1001")
        run = store.run("audit", "verify", "--trusted", str(tmp_path / "cp.txt"), "--json")
        result = json.loads(run.stdout)
        # An unverified tail is never "ok": its own verdict and exit code.
        assert (run.exit_code, result["ok"], result["verdict"]) == (4, False, "unverified_tail")
        assert result["trusted_size"] == 9
        assert result["unverified_tail"] == 1
        assert result["tree_size"] == 10
        assert result["failures"] == []
        assert "unverified tail: 1 event(s) after the largest trusted checkpoint" in run.stderr

    def test_an_incremental_audit_with_events_after_the_checkpoint_is_not_ok(
        self, store: Cli, active_entry: str, tmp_path: Path
    ) -> None:
        checkpoint(store, tmp_path / "cp.txt")
        store.ok("entry", "remove", active_entry, "--reason", "case_closed", officer="PC-1001")
        run = store.run("audit", "verify", "--since", str(tmp_path / "cp.txt"), "--json")
        result = json.loads(run.stdout)
        assert (run.exit_code, result["ok"], result["verdict"]) == (4, False, "unverified_tail")
        assert result["unverified_tail"] == 1
        run = store.run("audit", "verify", "--since", str(tmp_path / "cp.txt"))
        assert run.exit_code == 4
        assert run.stdout.startswith("UNVERIFIED TAIL: ")
        assert "OK" not in run.stdout.split(",")[0]
        checkpoint(store, tmp_path / "cp2.txt")
        result = store.ok("audit", "verify", "--since", str(tmp_path / "cp2.txt"))
        assert (result["ok"], result["verdict"]) == (True, "verified")

    def test_a_checkpoint_from_another_log_is_an_integrity_failure(
        self, store: Cli, tmp_path: Path
    ) -> None:
        other = Cli(tmp_path / "other")
        other.ok(
            "init", "--origin", "other.example/watchlist", "--admin", "ADMIN-01", "--name", "Other"
        )
        checkpoint(other, tmp_path / "foreign.txt")
        result = store.run("audit", "verify", "--trusted", str(tmp_path / "foreign.txt"), "--json")
        assert result.exit_code == 3
        document = json.loads(result.stdout)
        assert document["ok"] is False
        assert document["verdict"] == "failed"
        assert "foreign.txt" in document["failures"][0]["problem"]
        assert "Traceback" not in result.stderr


class TestProofs:
    def test_prove_gives_an_inclusion_proof_for_a_position(self, store: Cli) -> None:
        proof = store.ok("audit", "prove", "--position", "3")
        assert (proof["position"], proof["leaf_index"], proof["tree_size"]) == (3, 2, 7)
        assert len(proof["proof"]) == 3

    def test_prove_needs_exactly_one_kind_of_proof(self, store: Cli) -> None:
        result = store.run("audit", "prove")
        assert result.exit_code == 2
        assert "--position" in result.stderr

    def test_a_position_beyond_the_log_is_not_found(self, store: Cli) -> None:
        result = store.run("audit", "prove", "--position", "999")
        assert result.exit_code == 1
        assert "no event at position 999" in result.stderr


class TestWitnessThroughTheCli:
    def test_a_witness_cosigns_and_then_refuses_a_rollback_with_exit_3(
        self, store: Cli, active_entry: str, tmp_path: Path
    ) -> None:
        env = {"WATCHLIST_WITNESS_PASSPHRASE": "witness pw"}
        key = store.ok("audit", "log-key")["log_key"]
        state = tmp_path / "witness"
        created = store.run(
            "audit",
            "witness",
            "init",
            "--state",
            str(state),
            "--name",
            "legal.example",
            "--log-key",
            key,
            "--json",
            env=env,
        )
        assert created.exit_code == 0, created.stderr
        assert json.loads(created.stdout)["key"].startswith("legal.example+")
        old = checkpoint(store, tmp_path / "old.txt")
        first = store.run(
            "audit", "witness", "cosign", str(tmp_path / "old.txt"), "--state", str(state), env=env
        )
        assert first.exit_code == 0, first.stderr
        assert first.stdout.startswith(old)
        store.ok("entry", "remove", active_entry, "--reason", "case_closed", officer="PC-1001")
        checkpoint(store, tmp_path / "new.txt")
        grown = store.run(
            "audit", "witness", "cosign", str(tmp_path / "new.txt"), "--state", str(state), env=env
        )
        assert grown.exit_code == 0, grown.stderr
        rollback = store.run(
            "audit", "witness", "cosign", str(tmp_path / "old.txt"), "--state", str(state), env=env
        )
        assert rollback.exit_code == 3
        assert "rollback" in rollback.stderr
        assert rollback.stdout == ""


class TestExport:
    def test_export_writes_a_bundle_without_personal_data_or_keys(
        self, store: Cli, active_entry: str, tmp_path: Path
    ) -> None:
        store.ok(
            "audit",
            "export",
            str(tmp_path / "bundle"),
            "--purpose",
            "Disclosure to the defence",
            officer="LEGAL-5001",
        )
        bundle = tmp_path / "bundle"
        names = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
        assert {
            "manifest.json",
            "events.jsonl",
            "leaves.jsonl",
            "officers.json",
            "proofs.json",
            "witnesses.json",
        } <= names
        assert any(name.startswith("checkpoints/") for name in names)
        blob = b"".join((bundle / name).read_bytes() for name in names)
        import base64

        decoded = b"".join(
            base64.b64decode(json.loads(line)["state"])
            for line in (bundle / "events.jsonl").read_text().splitlines()
        )
        for secret in (b"Jane Example", b"NOMINAL-000123", b"PRIVATE KEY"):
            assert secret not in blob
            assert secret not in decoded
        manifest = json.loads((bundle / "manifest.json").read_text())
        assert manifest["events"] == manifest["tree_size"] == 9

    def test_export_refuses_a_directory_that_is_not_empty(self, store: Cli, tmp_path: Path) -> None:
        (tmp_path / "full").mkdir()
        (tmp_path / "full" / "x").write_text("x")
        result = store.run(
            "audit", "export", str(tmp_path / "full"), "--purpose", "Review", officer="LEGAL-5001"
        )
        assert result.exit_code == 1
        assert "not empty" in result.stderr


class TestAccessLog:
    def test_every_reveal_and_export_is_logged_and_refusals_are_not(
        self, store: Cli, active_entry: str, tmp_path: Path
    ) -> None:
        store.ok(
            "entry",
            "show",
            active_entry,
            "--purpose",
            "Identity check before deployment",
            officer="PC-1001",
        )
        refused = store.run(
            "entry", "show", active_entry, "--purpose", "Curiosity", officer="ADMIN-01"
        )
        assert refused.exit_code == 1
        store.ok(
            "audit",
            "export",
            str(tmp_path / "bundle"),
            "--purpose",
            "Court order 42",
            "--recipient",
            "Defence team",
            officer="LEGAL-5001",
        )
        log = store.ok("audit", "access", officer="LEGAL-5001")
        assert [(a["kind"], a["officer_id"], a["purpose"]) for a in log] == [
            ("consultation", "PC-1001", "Identity check before deployment"),
            ("disclosure", "LEGAL-5001", "Court order 42"),
        ]
        assert log[1]["recipient"] == "Defence team"
        assert [
            a["kind"]
            for a in store.ok("audit", "access", "--entry", active_entry, officer="LEGAL-5001")
        ] == ["consultation", "disclosure"]
        assert [
            a["officer_id"]
            for a in store.ok("audit", "access", "--officer", "PC-1001", officer="ADMIN-01")
        ] == ["PC-1001"]

    def test_an_export_needs_a_purpose(self, store: Cli, tmp_path: Path) -> None:
        result = store.run("audit", "export", str(tmp_path / "bundle"), officer="LEGAL-5001")
        assert result.exit_code == 2
        assert "purpose" in result.stderr
        assert not (tmp_path / "bundle").exists()

    def test_the_access_log_is_only_for_legal_and_admin(self, store: Cli) -> None:
        result = store.run("audit", "access", officer="PC-1001")
        assert result.exit_code == 1
        assert "legal" in result.stderr
