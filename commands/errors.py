"""The one place where errors become exit codes and stderr lines.

0 ok; 1 refused (rule, permission, not found, conflict); 2 invalid input or usage; 3 integrity
failure. No traceback reaches a user for an expected error, and messages never carry key material.

Nothing heavy is imported to build the CLI: the event store library's ``PersistenceError`` can only
have been raised once its module was loaded, so the group asks ``sys.modules`` for that class rather
than importing the library, and rich is loaded only to print.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from governance.errors import GovernanceError, IntegrityFailure, InvalidInput, Refused

if TYPE_CHECKING:
    from rich.console import Console

OK, REFUSED, INVALID, INTEGRITY = 0, 1, 2, 3


@cache
def stderr() -> Console:
    """The console for error lines, made when the first one is printed."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def exit_code(error: GovernanceError) -> int:
    """The exit code for an expected error."""
    if isinstance(error, IntegrityFailure):
        return INTEGRITY
    if isinstance(error, InvalidInput):
        return INVALID
    if isinstance(error, Refused):
        return REFUSED
    return REFUSED


def report(error: GovernanceError) -> None:
    """Print one line per problem on stderr."""
    from rich.markup import escape

    label = "error" if exit_code(error) != INTEGRITY else "integrity"
    for line in error.lines:
        stderr().print(f"[bold red]{label}:[/] {escape(line)}")


def database_failed(error: BaseException) -> bool:
    """Whether ``error`` is the event store library's ``PersistenceError``."""
    module = sys.modules.get("eventsourcing.persistence")
    return module is not None and isinstance(error, module.PersistenceError)


class GovernedGroup(TyperGroup):
    """Top-level command group that maps governance errors to exit codes for every command."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except GovernanceError as error:
            report(error)
            raise typer.Exit(exit_code(error)) from None
        except Exception as error:
            if not database_failed(error):
                raise
            stderr().print(
                f"[bold red]error:[/] store: the database failed ({type(error).__name__})"
            )
            raise typer.Exit(REFUSED) from None
