"""The ``watchlist`` command: global options and the command groups.

A command starts fast because nothing is imported before it is needed. The commands and groups are
listed below by name, module and one-line help; a command line loads only the module of the
command it names (``watchlist entry show`` imports ``commands.entry`` and builds only ``show``; see
``commands.startup``), and ``watchlist --help`` lists them from this table without loading any.
The command modules import the store, the projections and rich where they are used. Help is
Click's plain text (``rich_markup_mode=None``): rich's help renderer costs more than Typer's import.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from commands.errors import GovernedGroup
from commands.session import Session
from commands.startup import Commands, Group, Lazy

COMMANDS: dict[str, Lazy] = {
    "init": Lazy(
        "commands.init",
        "init",
        "Create a new store with its first administrator (keys are written into the home).",
    ),
    "demo": Lazy(
        "commands.demo",
        "demo",
        "Build a demo store: officers, entries, a refusal, a review, a deployment, a late removal.",
    ),
    "inclusion": Lazy(
        "commands.inclusion",
        "inclusion",
        "Answer for one entry at T, as known now, at an instant, or at a deployment's basis.",
    ),
    "sweep": Lazy(
        "commands.sweep",
        "run",
        "Expire lapsed entries, flag overdue reviews, warn of expiries, erase data past retention.",
    ),
    "officer": Lazy("commands.officer", "app", "Enrol and manage officers and their keys."),
    "entry": Lazy("commands.entry", "app", "Propose, authorise, check, review and remove entries."),
    "audit": Lazy("commands.audit", "app", "Verify the record and prove it was only appended to."),
    "policy": Lazy("commands.policy", "app", "Publish and read policy versions."),
    "deployment": Lazy(
        "commands.deployment", "app", "Authorise, compile, run and reconstruct deployments."
    ),
    "hold": Lazy("commands.sweep", "holds", "Place and release legal holds (legal)."),
}


class Watchlist(GovernedGroup, Group):
    """The root group: commands load when named; its help lists them without loading them."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = Commands(
            {name: partial(lazy.load, name) for name, lazy in COMMANDS.items()}
        )

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        listing = [TyperCommand(name, help=lazy.help) for name, lazy in COMMANDS.items()]
        TyperGroup(commands=listing).format_commands(ctx, formatter)


app = typer.Typer(
    cls=Watchlist,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
    help="Signed, verifiable governance record of police watchlist decisions.",
)


@app.callback()
def global_options(
    ctx: typer.Context,
    home: Annotated[
        str | None, typer.Option("--home", help="Store home directory (default: WATCHLIST_HOME).")
    ] = None,
    as_officer: Annotated[
        str | None, typer.Option("--as", help="Acting officer id (default: WATCHLIST_OFFICER).")
    ] = None,
    key: Annotated[
        Path | None, typer.Option("--key", help="Private key file (default: WATCHLIST_KEY).")
    ] = None,
) -> None:
    """Global options come before the command; --json comes after it."""
    session = Session(home=home, officer_id=as_officer, key_file=key)
    ctx.obj = session
    ctx.call_on_close(session.close)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
