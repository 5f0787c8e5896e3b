"""How the command line starts fast: commands are built when named, values converted without pydantic.

Two costs come before a command does anything, and both grow with the CLI rather than the command:
- Building the Click command of every command (Typer reads each function's signature and type
  hints) takes about 2 ms a command. A ``Group`` here builds a command the first time it is looked
  up, so ``watchlist entry show`` builds one command, not the forty-odd of the whole CLI.
- Typer 0.29 converts every parameter value, even an absent one, with a pydantic ``TypeAdapter``
  that it builds on first use; importing pydantic's validation machinery and building the adapters
  costs more than Typer's own import. ``Quick`` converts the values this CLI mostly has (text,
  enum choices, paths) as Typer's adapters do, with Typer's own helpers, and hands any other value
  (numbers, lists, anything unusual, and every value it would reject) to Typer's adapter, so the
  result and every error message stay Typer's.

Both lean on Typer internals (``typer.models`` infos, ``_TyperParameter._runtime_param``,
``typer._coercion``, ``typer._param_types``); ``tests/cli/test_startup.py`` holds them to account.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from enum import Enum
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import typer
from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
from typer._param_types import coerce_cli_choice, coerce_cli_path
from typer.core import TyperCommand, TyperGroup, _TyperParameter
from typer.models import CommandInfo, TyperInfo


@dataclass(frozen=True)
class Quick(RuntimeParam):
    """Converts a text, enum or path value as Typer would; anything else goes to Typer's adapter."""

    descriptor: TypeDescriptor

    def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Any) -> Any:
        annotation, info = self.annotation, self.parameter_info
        if info.parser is None and self.descriptor.file_annotation is None:
            if annotation is str and type(value) is str:
                return value
            if isinstance(annotation, type) and issubclass(annotation, Enum):
                try:
                    return coerce_cli_choice(
                        value,
                        choices=tuple(annotation),
                        case_sensitive=info.case_sensitive,
                        ctx=ctx,
                    )
                except ValueError:
                    pass  # Typer's adapter raises the error, worded as Typer words it
            elif annotation is Path and info.path_type is None and isinstance(value, str | Path):
                return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
        return self.typer_conversion._coerce_value(value, param=param, ctx=ctx)

    @cached_property
    def typer_conversion(self) -> RuntimeParam:
        """Typer's own conversion (a pydantic adapter), built only when a value needs it."""
        return build_runtime_param(self.descriptor)


def quick(params: list[Any]) -> list[Any]:
    """``params``, each set to convert its values with ``Quick`` unless it already converted one."""
    for param in params:
        if isinstance(param, _TyperParameter) and param._runtime_param is None:
            found = param.type_descriptor
            param._runtime_param = Quick(found.parameter_info, found.annotation, found)
    return params


class Command(TyperCommand):
    """A command whose parameters (its --help too) convert their values with ``Quick``."""

    def get_params(self, ctx: Any) -> list[Any]:
        return quick(super().get_params(ctx))


class Group(TyperGroup):
    """A group that builds each of its commands when first looked up, and converts with ``Quick``."""

    def get_params(self, ctx: Any) -> list[Any]:
        return quick(super().get_params(ctx))


class Commands(MutableMapping[str, Any]):
    """A group's commands by name, each built on first lookup (commands added later are kept too)."""

    def __init__(self, builders: Mapping[str, Callable[[], TyperCommand | TyperGroup]]) -> None:
        self.builders, self.built = builders, dict[str, Any]()

    def __getitem__(self, name: str) -> Any:
        if name not in self.built:
            if name not in self.builders:
                raise KeyError(name)
            self.built[name] = self.builders[name]()
        return self.built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self.built[name] = command

    def __delitem__(self, name: str) -> None:
        del self.built[name]

    def __iter__(self) -> Iterator[str]:
        yield from self.builders
        yield from (name for name in self.built if name not in self.builders)

    def __len__(self) -> int:
        return len(self.builders) + sum(1 for name in self.built if name not in self.builders)


def holder() -> typer.Typer:
    """A throwaway Typer app to build one command or group with (plain help, as the root's)."""
    return typer.Typer(add_completion=False, rich_markup_mode=None)


def command(info: CommandInfo) -> TyperCommand:
    """The Click command of one ``@app.command`` registration."""
    info = copy.copy(info)
    if info.cls in (None, TyperCommand):  # ``@app.command`` fills in TyperCommand
        info.cls = Command
    app = holder()
    app.registered_commands.append(info)
    built = typer.main.get_command(app)
    assert isinstance(built, TyperCommand)
    return built


def command_name(info: CommandInfo) -> str:
    """The name Typer gives a registered command."""
    assert info.callback is not None
    return info.name or typer.main.get_command_name(info.callback.__name__)


def group(info: TyperInfo) -> Group:
    """The Click group of one ``add_typer`` registration, with its commands built on first lookup."""
    source = info.typer_instance
    name = info.name
    assert source is not None
    assert isinstance(name, str)
    shell = copy.copy(source)  # the same settings and callback, without the commands
    shell.registered_commands, shell.registered_groups = [], []
    info = copy.copy(info)
    info.typer_instance, info.cls = shell, Group
    app = holder()
    app.registered_groups.append(info)
    top = typer.main.get_command(app)
    assert isinstance(top, TyperGroup)
    built = top.commands[name]
    assert isinstance(built, Group)
    builders: dict[str, Callable[[], TyperCommand | TyperGroup]] = {}
    for each in source.registered_commands:
        builders[command_name(each)] = partial(command, each)
    for nested in source.registered_groups:
        builders[str(nested.name)] = partial(group, nested)
    built.commands = Commands(builders)
    return built


@dataclass(frozen=True)
class Lazy:
    """A command or group of the root, loaded from ``module.attribute`` when first named."""

    module: str
    attribute: str
    help: str  # as listed by ``watchlist --help`` (a test holds it equal to the command's own)

    def load(self, name: str) -> TyperCommand | TyperGroup:
        """Import the module and build the command or group named ``name``."""
        target = getattr(importlib.import_module(self.module), self.attribute)
        if isinstance(target, typer.Typer):
            return group(TyperInfo(target, name=name))
        return command(CommandInfo(name=name, callback=target))
