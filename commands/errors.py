"""The one place where errors become exit codes and stderr lines.

0 ok; 1 refused (rule, permission, not found, conflict); 2 invalid input or usage; 3 integrity
failure. No traceback reaches a user for an expected error, and messages never carry key material.
"""

from __future__ import annotations

from typing import Any

import typer
from eventsourcing.persistence import PersistenceError
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from governance.errors import GovernanceError, IntegrityFailure, InvalidInput, Refused

OK, REFUSED, INVALID, INTEGRITY = 0, 1, 2, 3

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


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
    label = "error" if exit_code(error) != INTEGRITY else "integrity"
    for line in error.lines:
        stderr.print(f"[bold red]{label}:[/] {escape(line)}")


class GovernedGroup(TyperGroup):
    """Top-level command group that maps governance errors to exit codes for every command."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except GovernanceError as error:
            report(error)
            raise typer.Exit(exit_code(error)) from None
        except PersistenceError as error:
            stderr.print(f"[bold red]error:[/] store: the database failed ({type(error).__name__})")
            raise typer.Exit(REFUSED) from None
