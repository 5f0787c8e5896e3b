"""``watchlist init``: create a store, its first administrator and its keys."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from commands.render import JSON_HELP, emit
from commands.session import passphrase_from, session_of
from governance.domain.officer import check_officer_id
from governance.domain.vocabulary import Rank
from governance.errors import Conflict
from governance.integrity import keys
from governance.integrity.sealing import MasterKey
from governance.integrity.signing import Signer


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
    settings = session.settings
    check_officer_id(admin, "admin")
    key_path = settings.officer_key_path(admin)
    existing = [
        p for p in (key_path, settings.master_key_path, settings.log_key_path) if p.exists()
    ]
    if existing or (settings.backend == "sqlite" and settings.sqlite_path.exists()):
        raise Conflict(f"store: {settings.home} already holds a watchlist store or its keys")
    passphrase = passphrase_from(
        "WATCHLIST_PASSPHRASE", f"New passphrase for {admin}'s key", confirm=True
    )
    admin_key, log_key = keys.generate(), keys.generate()
    written: list[Path] = []
    try:
        app = session.app(create=True)
        app.officers.found(
            origin, name, rank, Signer(admin, admin_key), keys.public_b64(log_key.public_key())
        )
        keys.write_private_key(key_path, admin_key, passphrase)
        written.append(key_path)
        keys.write_private_key(settings.log_key_path, log_key, passphrase)
        written.append(settings.log_key_path)
        MasterKey.create(settings.master_key_path)
    except BaseException:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    emit(
        {"origin": origin, "admin": admin, "home": str(settings.home)},
        as_json,
        f"Created store '{origin}' with administrator {admin}.",
    )
