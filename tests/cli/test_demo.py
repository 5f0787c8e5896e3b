"""``watchlist demo``: the story runs, and it leaves a store a newcomer can go on exploring.

The demo runs in this process through typer's CliRunner, on the real clock (as a newcomer runs it),
and the next commands it prints are parsed and run the same way, with the environment its
``export`` line sets.
"""

from __future__ import annotations

import json
import re
import shlex
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from commands.demo import MARKER, path_to_watchlist
from commands.demo_story import DEMO_PASSPHRASE
from commands.main import app
from governance.integrity import keys

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No WATCHLIST_* variable from outside, an empty working folder, and a private temp dir.

    The temporary directory is a fresh empty folder (for Python's tempfile and for SQLite through
    TMPDIR), so "the demo leaves nothing in it" is checked exactly, whatever else runs meanwhile.
    """
    for name in ("HOME", "DATABASE_URL", "OFFICER", "KEY", "PASSPHRASE"):
        monkeypatch.delenv(f"WATCHLIST_{name}", raising=False)
    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(system_temp))
    monkeypatch.setattr(tempfile, "tempdir", str(system_temp))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return system_temp


def watchlist(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
    result = CliRunner(env=env).invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def next_commands(stdout: str) -> list[list[str]]:
    """The commands printed after "Try next:", split as a shell would (comments dropped)."""
    tail = stdout.split("Try next:\n", 1)[1]
    return [shlex.split(line, comments=True) for line in tail.splitlines() if line.strip()]


def run_next_commands(stdout: str, shell: Mapping[str, str] | None = None) -> list[Result]:
    """Run the printed commands in order, as a shell with ``shell`` set would; all must succeed."""
    env: dict[str, str | None] = dict(shell or {})
    results = []
    for words in next_commands(stdout):
        if words[0] == "export":
            for word in words[1:]:
                name, _, value = word.partition("=")
                if name != "PATH":  # the test runs watchlist in this process
                    env[name] = value
            continue
        if words[0] == "unset":
            for name in words[1:]:
                env[name] = None  # CliRunner unsets a variable given as None
            continue
        assert words[0] == "watchlist", words
        result = watchlist(*words[1:], env=env)
        assert result.exit_code == 0, (words, result.stdout, result.stderr)
        results.append(result)
    return results


class TestTheDemoStore:
    def test_the_story_runs_end_to_end_and_verifies(self, tmp_path: Path) -> None:
        result = watchlist("demo", "--home", str(tmp_path / "demo"))
        assert result.exit_code == 0, result.stderr
        assert "authorised_by_proposer" in result.stderr  # the refused self-authorisation
        assert "RETROACTIVELY_INVALIDATED" in result.stdout
        assert "checks out" in result.stdout

    def test_it_goes_to_dot_demo_by_default_and_says_so(self) -> None:
        result = watchlist("demo")
        assert result.exit_code == 0, result.stderr
        home = Path.cwd().resolve() / ".demo"
        assert (home / "watchlist.sqlite").is_file()
        assert f"The demo store is at {home}" in result.stdout

    def test_watchlist_home_and_the_global_home_option_choose_the_folder(
        self, tmp_path: Path
    ) -> None:
        by_env = watchlist("demo", env={"WATCHLIST_HOME": str(tmp_path / "by-env")})
        assert by_env.exit_code == 0, by_env.stderr
        assert (tmp_path / "by-env" / "watchlist.sqlite").is_file()
        by_option = watchlist("--home", str(tmp_path / "by-option"), "demo")
        assert by_option.exit_code == 0, by_option.stderr
        assert (tmp_path / "by-option" / "watchlist.sqlite").is_file()
        assert not (Path.cwd() / ".demo").exists()

    def test_it_leaves_nothing_in_the_temporary_directory(
        self, clean_environment: Path, tmp_path: Path
    ) -> None:
        assert watchlist("demo").exit_code == 0
        assert watchlist("demo", "--home", str(tmp_path / "elsewhere")).exit_code == 0
        assert list(clean_environment.iterdir()) == []

    def test_every_officer_has_a_key_file_that_the_printed_passphrase_unlocks(
        self, tmp_path: Path
    ) -> None:
        home = tmp_path / "demo"
        result = watchlist("demo", "--home", str(home))
        assert f"demo passphrase '{DEMO_PASSPHRASE}'" in result.stdout
        officers = json.loads(watchlist("--home", str(home), "officer", "list", "--json").stdout)
        assert any(officer["roles"] == ["legal"] for officer in officers)
        for officer in officers:
            key = keys.read_private_key(
                home / "keys" / f"{officer['officer_id']}.pem", DEMO_PASSPHRASE
            )
            assert keys.key_id(keys.public_b64(key.public_key())) == officer["key_id"]
        assert keys.read_private_key(home / "log-key.pem", DEMO_PASSPHRASE)
        assert DEMO_PASSPHRASE in (home / MARKER).read_text()

    def test_the_printed_deployment_id_is_the_store_s_deployment(self, tmp_path: Path) -> None:
        home = tmp_path / "demo"
        result = watchlist("demo", "--home", str(home))
        printed = re.search(rf"The deployment's id is ({UUID.pattern})", result.stdout)
        assert printed is not None
        shown = watchlist("--home", str(home), "deployment", "show", printed[1], "--json")
        assert json.loads(shown.stdout)["deployment_id"] == printed[1]


class TestTheNextCommands:
    def test_every_printed_command_succeeds_against_the_demo_store(self) -> None:
        result = watchlist("demo")
        assert result.exit_code == 0, result.stderr
        commands = [words[:3] for words in next_commands(result.stdout)]
        assert ["watchlist", "audit", "verify"] in commands
        assert any(words[:3] == ["watchlist", "--as", "LEGAL-4001"] for words in commands)
        outputs = run_next_commands(result.stdout)
        assert len(outputs) >= 6
        assert "RETROACTIVELY_INVALIDATED" in outputs[4].stdout  # the legal reconstruction
        assert outputs[-1].stdout.startswith("OK")  # audit verify, after the new authorisation

    def test_the_export_line_points_at_the_store_and_its_passphrase(self, tmp_path: Path) -> None:
        home = tmp_path / "with space"
        result = watchlist("demo", "--home", str(home))
        exports = [words for words in next_commands(result.stdout) if words[0] == "export"]
        assert exports == [
            [
                "export",
                f"WATCHLIST_HOME={home.resolve()}",
                f"WATCHLIST_PASSPHRASE={DEMO_PASSPHRASE}",
            ]
        ]

    def test_with_a_database_url_set_the_demo_stays_on_sqlite_and_says_to_unset_it(self) -> None:
        url = {"WATCHLIST_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
        result = watchlist("demo", env=url)
        assert result.exit_code == 0, result.stderr
        assert ["unset", "WATCHLIST_DATABASE_URL"] in next_commands(result.stdout)
        assert run_next_commands(result.stdout, shell=url)

    def test_a_path_line_is_printed_when_the_running_watchlist_is_not_on_path(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        script = tmp_path / "venv-bin" / "watchlist"
        script.parent.mkdir()
        script.write_text("#!/bin/sh\n")
        monkeypatch.setattr("sys.argv", [str(script), "demo"])
        monkeypatch.setenv("PATH", "/usr/bin:/bin")
        assert path_to_watchlist() == [f'export PATH={script.parent}:"$PATH"']
        monkeypatch.setenv("PATH", f"{script.parent}:/usr/bin")
        script.chmod(0o755)
        assert path_to_watchlist() == []


class TestIds:
    def test_no_two_entries_are_shown_with_the_same_id_and_no_shortened_ids(
        self, tmp_path: Path
    ) -> None:
        home = tmp_path / "demo"
        text = watchlist("demo", "--home", str(home)).stdout
        introduced = re.findall(rf"(entry [A-Z]) \(({UUID.pattern})\)", text)
        labels = [label for label, _ in introduced]
        ids = [entry_id for _, entry_id in introduced]
        assert len(set(labels)) == len(labels) == len(set(ids)) == 3
        listed = json.loads(watchlist("--home", str(home), "entry", "list", "--json").stdout)
        assert sorted(ids) == sorted(row["entry_id"] for row in listed)
        assert set(re.findall(r"entry [A-Z]\b", text)) == set(labels)
        # Stream ids are UUIDv7: ids made in the same minute share their first block, so any
        # shortened id could name two entries. Once full ids are taken out, no piece of one is left.
        remains = UUID.sub("", text)
        assert not re.search(r"\b[0-9a-f]{8}-", remains), remains
        assert not re.search(r"\b[0-9a-f]{8}\b", remains), remains


class TestRefusals:
    def test_a_folder_that_is_not_empty_is_refused_with_nothing_written(
        self, tmp_path: Path
    ) -> None:
        home = tmp_path / "busy"
        home.mkdir()
        (home / "notes.txt").write_text("mine")
        for args in (["demo", "--home", str(home)], ["demo", "--home", str(home), "--replace"]):
            result = watchlist(*args)
            assert result.exit_code == 1
            assert "is not empty" in result.stderr
            assert "nothing was written" in result.stderr
            assert sorted(p.name for p in home.iterdir()) == ["notes.txt"]

    def test_an_earlier_demo_is_refused_unless_replace_is_given(self, tmp_path: Path) -> None:
        home = tmp_path / "demo"
        first = watchlist("demo", "--home", str(home))
        before = {p: p.stat().st_mtime_ns for p in home.rglob("*")}
        again = watchlist("demo", "--home", str(home))
        assert again.exit_code == 1
        assert "--replace" in again.stderr
        assert {p: p.stat().st_mtime_ns for p in home.rglob("*")} == before
        replaced = watchlist("demo", "--home", str(home), "--replace")
        assert replaced.exit_code == 0, replaced.stderr
        assert set(UUID.findall(first.stdout)).isdisjoint(UUID.findall(replaced.stdout))
