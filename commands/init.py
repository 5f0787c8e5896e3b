"""``watchlist init``: create a store, its first administrator and its keys."""

from __future__ import annotations

from typing import Annotated

import typer

from commands.render import JSON_HELP, emit
from commands.session import passphrase_from, session_of
from governance.domain.vocabulary import Rank
from governance.services.founding import found_store


def init(
    ctx: typer.Context,
    origin: Annotated[
        str, typer.Option(help="The store's origin name, e.g. example.police.uk/watchlist.")
    ],
    admin: Annotated[str, typer.Option(help="Officer id of the first administrator.")],
    name: Annotated[str, typer.Option(help="The administrator's name.")],
    rank: Annotated[Rank, typer.Option(help="The administrator's rank.")] = Rank.INSPECTOR,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Create a new store with its first administrator (keys are written into the home)."""
    session = session_of(ctx)
    found_store(
        session.settings,
        lambda: session.app(create=True),
        origin,
        admin,
        name,
        rank,
        lambda: passphrase_from(
            "WATCHLIST_PASSPHRASE", f"New passphrase for {admin}'s key", confirm=True
        ),
    )
    emit(
        {"origin": origin, "admin": admin, "home": str(session.settings.home)},
        as_json,
        f"Created store '{origin}' with administrator {admin}.",
    )
