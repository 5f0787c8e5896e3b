"""Driving the ``watchlist`` CLI in-process, with stdout and stderr captured separately."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from commands.main import app
from governance import clock
from tests.conftest import entry_document

PASSPHRASE = "correct horse battery staple"


@dataclass
class Cli:
    """Runs ``watchlist`` against one home directory."""

    home: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(
        self, *args: str, officer: str | None = None, env: dict[str, str] | None = None
    ) -> Result:
        """Invoke ``watchlist [--as OFFICER] ARGS``; never lets an exception escape silently."""
        prefix = ["--home", str(self.home)] + (["--as", officer] if officer else [])
        merged = {
            "WATCHLIST_PASSPHRASE": PASSPHRASE,
            "WATCHLIST_NEW_PASSPHRASE": PASSPHRASE,
            **self.env,
            **(env or {}),
        }
        result = CliRunner(env=merged).invoke(app, [*prefix, *args])
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    def ok(self, *args: str, officer: str | None = None) -> Any:
        """Run with ``--json`` and return the parsed document, asserting success."""
        result = self.run(*args, "--json", officer=officer)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    def write_entry(self, name: str = "entry.json", **changes: Any) -> Path:
        """Write an ENTRY.json next to the home and return its path."""
        path = self.home.parent / name
        path.write_text(json.dumps(entry_document(**changes)))
        return path

    def snapshot(self) -> tuple[Any, ...]:
        """Everything the store holds: events, key rows and files, for 'nothing was written' checks."""
        db = self.home / "watchlist.sqlite"
        rows: tuple[Any, ...] = ()
        if db.exists():
            with sqlite3.connect(db) as conn:
                rows = (
                    tuple(conn.execute("SELECT rowid, * FROM stored_events ORDER BY rowid")),
                    tuple(conn.execute("SELECT * FROM subject_keys ORDER BY key_ref")),
                )
        files = tuple(
            sorted(str(p.relative_to(self.home)) for p in self.home.rglob("*") if p.is_file())
        )
        return rows, files


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    """A CLI bound to an empty home, with the clock frozen at T0."""
    from tests.conftest import T0

    with clock.frozen(T0):
        yield Cli(tmp_path / "home")


@pytest.fixture
def store(cli: Cli) -> Cli:
    """A CLI whose home holds a store with officers enrolled through the CLI itself."""
    cli.ok(
        "init", "--origin", "test.example/watchlist", "--admin", "ADMIN-01", "--name", "Alex Admin"
    )
    for officer_id, rank, roles in (
        ("PC-1001", "constable", ["custodian"]),
        ("SUPT-2001", "superintendent", ["authoriser", "custodian"]),
        ("INSP-3001", "inspector", ["reviewer"]),
        ("INSP-4001", "inspector", ["authoriser"]),
        ("LEGAL-5001", "constable", ["legal"]),
    ):
        role_args = [arg for role in roles for arg in ("--role", role)]
        cli.ok(
            "officer",
            "enrol",
            officer_id,
            "--name",
            f"Officer {officer_id}",
            "--rank",
            rank,
            *role_args,
            officer="ADMIN-01",
        )
    return cli


@pytest.fixture
def active_entry(store: Cli) -> str:
    """An entry proposed by PC-1001 and authorised by SUPT-2001."""
    entry_id: str = store.ok(
        "entry", "propose", "--file", str(store.write_entry()), officer="PC-1001"
    )["entry_id"]
    store.ok(
        "entry",
        "authorise",
        entry_id,
        "--rationale",
        "Necessary and proportionate.",
        officer="SUPT-2001",
    )
    return entry_id
