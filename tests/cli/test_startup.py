"""A command starts fast (issue 12 section 6), held without timing anything.

What a fresh process imports is checked in a subprocess: building the CLI and ``--help`` load no
heavy package, and a command on SQLite never loads psycopg. The lazy machinery of
``commands.startup`` is checked against Typer's own: the root's listing says what each command says
of itself, every command is found, and the quick value conversion gives Typer's values and errors.
The speed itself is measured by ``python -m bench.cli``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
from typer._coercion import build_runtime_param
from typer.core import TyperCommand, TyperGroup, _TyperParameter

from commands.main import COMMANDS
from commands.startup import Command, Group, Quick
from tests.cli.conftest import Cli

HEAVY = {"psycopg", "psycopg_pool", "pydantic", "eventsourcing", "cryptography", "jinja2", "rich"}
OURS = {"governance", "projections"}
#: All of our own code that building the CLI may load: the exception classes (standard library only).
LIGHT = {"governance", "governance.errors"}

REPORT = """
import json, sys
{code}
print(json.dumps(sorted(sys.modules)))
"""


def loaded_by(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    done = subprocess.run(
        [sys.executable, "-c", REPORT.format(code=code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return set(found)


def of(packages: set[str], modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in packages}


def run_cli(*args: str) -> str:
    """Python code that runs ``watchlist ARGS`` in-process and carries on after it exits."""
    return f"from commands.main import app\ntry:\n    app({list(args)!r})\nexcept SystemExit:\n    pass\n"


class TestImports:
    def test_building_the_cli_loads_nothing_heavy(self) -> None:
        assert of(HEAVY | OURS, loaded_by("import commands.main")) <= LIGHT

    def test_help_loads_nothing_heavy_and_lists_every_command(self) -> None:
        assert of(HEAVY | OURS, loaded_by(run_cli("--help"))) <= LIGHT
        done = subprocess.run(
            [sys.executable, "-c", run_cli("--help")], capture_output=True, text=True, check=True
        )
        listing = done.stdout.split("Commands:")[1].splitlines()
        assert [line.split()[0] for line in listing if line.strip()] == list(COMMANDS)

    def test_a_command_line_loads_only_the_command_module_it_names(self) -> None:
        found = of({"commands"}, loaded_by(run_cli("policy", "--help")))
        others = {lazy.module for lazy in COMMANDS.values()} - {"commands.policy"}
        assert "commands.policy" in found
        assert not found & (others | {"commands.witness"})

    def test_a_command_on_sqlite_loads_no_psycopg_and_no_jinja2(self, cli: Cli) -> None:
        cli.ok("init", "--origin", "test.example/watchlist", "--admin", "ADMIN-01", "--name", "A")
        found = loaded_by(run_cli("--home", str(cli.home), "officer", "list", "--json"))
        assert "governance.application" in found  # the command did open the store
        assert not of({"psycopg", "psycopg_pool", "jinja2"}, found)
        assert "platformdirs" not in found  # --home was given: no default location looked up


@cache
def every_command() -> dict[str, Any]:
    """Every command and group of the CLI by its path, built through the lazy loaders."""
    found: dict[str, Any] = {}

    def walk(path: str, command: Any) -> None:
        found[path] = command
        if isinstance(command, TyperGroup):
            for name in command.list_commands(typer.Context(command)):
                walk(f"{path} {name}", command.commands[name])

    for name, lazy in COMMANDS.items():
        walk(name, lazy.load(name))
    return found


def typer_built() -> dict[str, Any]:
    """The same, built the way Typer builds a CLI from its registrations, all at once."""
    whole = typer.Typer(add_completion=False)
    for name, lazy in COMMANDS.items():
        target = getattr(__import__(lazy.module, fromlist=["_"]), lazy.attribute)
        if isinstance(target, typer.Typer):
            whole.add_typer(target, name=name)
        else:
            whole.command(name)(target)
    found: dict[str, Any] = {}

    def walk(path: str, command: Any) -> None:
        found[path] = command
        for name, sub in getattr(command, "commands", {}).items():
            walk(f"{path} {name}" if path else name, sub)

    walk("", typer.main.get_command(whole))
    del found[""]
    return found


def signature(command: Any) -> list[tuple[str | None, tuple[str, ...], Any]]:
    return [(p.name, tuple(p.opts), p.type_descriptor.annotation) for p in command.params]


class TestLazyCommands:
    def test_the_root_listing_says_what_each_command_says_of_itself(self) -> None:
        for name, lazy in COMMANDS.items():
            real = lazy.load(name)
            assert TyperCommand(name, help=lazy.help).get_short_help_str(300) == (
                real.get_short_help_str(300)
            ), name

    def test_every_command_is_found_with_the_parameters_typer_gives_it(self) -> None:
        ours, theirs = every_command(), typer_built()
        assert sorted(ours) == sorted(theirs)
        for path, command in ours.items():
            assert signature(command) == signature(theirs[path]), path
            assert command.help == theirs[path].help, path

    def test_every_command_converts_its_values_quickly(self) -> None:
        for path, command in every_command().items():
            assert isinstance(command, Command | Group), path
            for param in command.get_params(typer.Context(command)):
                assert isinstance(param._runtime_param, Quick), (path, param.name)


def sample_values(annotation: Any) -> list[Any]:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [*(m.value for m in annotation), *(m for m in annotation), "no-such-choice"]
    if annotation is Path:
        return ["some/file.json", ".", Path("x"), "/"]
    if annotation is str:
        return ["text", "", "ümlaut ✓"]
    return []


def outcome(conversion: Any, value: Any, param: Any, ctx: typer.Context) -> tuple[str, Any]:
    """What a conversion makes of ``value``: the value and its type, or the error message."""
    try:
        got = conversion.coerce(value, param=param, ctx=ctx)
    except typer.BadParameter as error:
        return "error", error.format_message()
    return "value", (got, type(got))


class TestQuickConversion:
    @pytest.mark.parametrize("path", sorted(every_command()))
    def test_gives_typers_value_or_typers_error(self, path: str) -> None:
        command = every_command()[path]
        ctx = typer.Context(command)
        for param in command.params:
            assert isinstance(param, _TyperParameter)
            found = param.type_descriptor
            quick = Quick(found.parameter_info, found.annotation, found)
            theirs = build_runtime_param(found)
            for value in sample_values(found.annotation):
                assert outcome(quick, value, param, ctx) == outcome(theirs, value, param, ctx), (
                    path,
                    param.name,
                    value,
                )
