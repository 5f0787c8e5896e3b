"""Every command's success path, through the CLI, with stdout holding one JSON document."""

from __future__ import annotations

import pytest
from rich.console import Console

from commands import render
from tests.cli.conftest import Cli


class TestSetUp:
    def test_init_creates_a_store_and_the_admin_key_with_mode_0600(self, cli: Cli) -> None:
        result = cli.ok(
            "init", "--origin", "test.example/watchlist", "--admin", "ADMIN-01", "--name", "Alex"
        )
        assert result == {
            "origin": "test.example/watchlist",
            "admin": "ADMIN-01",
            "home": str(cli.home.resolve()),
        }
        key = cli.home / "keys" / "ADMIN-01.pem"
        assert key.stat().st_mode & 0o777 == 0o600
        assert b"ENCRYPTED PRIVATE KEY" in key.read_bytes()

    def test_officer_list_shows_every_officer_and_no_key_material(self, store: Cli) -> None:
        officers = store.ok("officer", "list")
        assert [o["officer_id"] for o in officers] == [
            "ADMIN-01",
            "PC-1001",
            "SUPT-2001",
            "INSP-3001",
            "INSP-4001",
            "LEGAL-5001",
        ]
        assert set(officers[1]) >= {"officer_id", "rank", "roles", "key_id", "status"}
        assert officers[2]["roles"] == ["authoriser", "custodian"]


class TestEntryLifecycle:
    def test_propose_authorise_check_review_remove(self, store: Cli) -> None:
        entry_id = store.ok(
            "entry", "propose", "--file", str(store.write_entry()), officer="PC-1001"
        )["entry_id"]
        assert store.ok("entry", "show", entry_id)["status"] == "proposed"
        assert store.ok(
            "entry", "authorise", entry_id, "--rationale", "Proportionate.", officer="SUPT-2001"
        ) == {
            "entry_id": entry_id,
            "status": "active",
        }
        checked = store.ok(
            "entry",
            "verify-source",
            entry_id,
            "--status",
            "live",
            "--note",
            "PNC",
            officer="PC-1001",
        )
        assert checked["source_status"] == "live"
        assert checked["verified_at"] == "2026-11-26T09:00:00.000000Z"
        reviewed = store.ok(
            "entry",
            "review",
            entry_id,
            "--outcome",
            "retain",
            "--rationale",
            "Still wanted.",
            officer="INSP-3001",
        )
        assert reviewed["status"] == "active"
        removed = store.ok(
            "entry", "remove", entry_id, "--reason", "arrested_or_located", officer="PC-1001"
        )
        assert removed["status"] == "removed"
        history = store.ok("entry", "history", entry_id)
        assert [h["type"] for h in history] == [
            "Proposed",
            "Authorised",
            "SourceVerified",
            "Reviewed",
            "Removed",
        ]
        assert {h["signature"] for h in history} == {"valid"}
        assert [h["actor"] for h in history] == [
            "PC-1001",
            "SUPT-2001",
            "PC-1001",
            "INSP-3001",
            "PC-1001",
        ]

    def test_show_withholds_the_subject_unless_a_purpose_is_given(
        self, store: Cli, active_entry: str
    ) -> None:
        shown = store.ok("entry", "show", active_entry)
        assert shown["subject"] == "withheld"
        assert "Jane" not in store.run("entry", "show", active_entry, "--json").stdout
        revealed = store.ok(
            "entry",
            "show",
            active_entry,
            "--purpose",
            "Identity check before deployment",
            officer="LEGAL-5001",
        )
        assert revealed["subject"]["name"] == "Jane Example"

    def test_list_never_shows_the_subject_and_filters_by_status(
        self, store: Cli, active_entry: str
    ) -> None:
        store.ok("entry", "propose", "--file", str(store.write_entry()), officer="PC-1001")
        listed = store.ok("entry", "list")
        assert len(listed) == 2
        assert all("subject" not in row for row in listed)
        assert [row["entry_id"] for row in store.ok("entry", "list", "--status", "active")] == [
            active_entry
        ]
        assert store.ok("entry", "list", "--due-within", "7") == []
        assert [row["entry_id"] for row in store.ok("entry", "list", "--due-within", "60")] == [
            active_entry
        ]

    def test_list_table_shows_every_entry_id_in_full_on_a_narrow_terminal(
        self, store: Cli, active_entry: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store.ok("entry", "propose", "--file", str(store.write_entry()), officer="PC-1001")
        ids = [row["entry_id"] for row in store.ok("entry", "list")]
        narrow = Console(width=80, highlight=False, soft_wrap=True)
        monkeypatch.setattr(render, "stdout", narrow, raising=False)
        table = store.run("entry", "list")
        assert table.exit_code == 0, table.stderr
        assert max(len(line) for line in table.stdout.splitlines()) <= 80
        for entry_id in ids:
            assert entry_id in table.stdout

    def test_audit_verify_passes_on_a_clean_store(self, store: Cli, active_entry: str) -> None:
        result = store.ok("audit", "verify")
        assert result["ok"] is True
        assert result["failures"] == []
        assert result["events"] == 1 + 6 + 2
