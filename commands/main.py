"""The ``watchlist`` command: global options and the command groups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from commands import audit, demo, deployment, entry, inclusion, init, officer, policy, sweep
from commands.errors import GovernedGroup
from commands.session import Session

app = typer.Typer(
    cls=GovernedGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    help="Signed, verifiable governance record of police watchlist decisions.",
)
app.command("init")(init.init)
app.command("demo")(demo.demo)
app.add_typer(officer.app, name="officer")
app.add_typer(entry.app, name="entry")
app.add_typer(audit.app, name="audit")
app.add_typer(policy.app, name="policy")
app.add_typer(deployment.app, name="deployment")
app.command("inclusion")(inclusion.inclusion)
app.command("sweep")(sweep.run)
app.add_typer(sweep.holds, name="hold")


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
