"""``watchlist officer ...``: enrol, revoke, change rank or roles, rotate keys, list."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from commands.documents import instant, officer_view
from commands.render import JSON_HELP, emit, emit_rows
from commands.session import passphrase_from, session_of
from governance.domain.officer import check_officer_id
from governance.domain.vocabulary import Rank, Role
from governance.errors import Conflict, InvalidInput
from governance.integrity import keys

app = typer.Typer(no_args_is_help=True, help="Enrol and manage officers and their keys.")

JsonFlag = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
Reason = Annotated[str, typer.Option(help="Why (recorded in the signed event).")]


@dataclass(frozen=True)
class NewKey:
    """The public key to register and, when generated here, the private key and its passphrase."""

    public: str
    private: Ed25519PrivateKey | None = None
    passphrase: str | None = None

    def store(self, path: Path) -> None:
        """Write a generated private key (after the enrolment was recorded)."""
        if self.private is not None and self.passphrase is not None:
            keys.write_private_key(path, self.private, self.passphrase)


def new_key(ctx: typer.Context, officer_id: str, public_key: Path | None) -> NewKey:
    """Read the given public key, or generate a key pair for the home (asking its passphrase)."""
    if public_key is not None:
        return NewKey(keys.public_b64(keys.read_public_key_file(public_key)))
    path = session_of(ctx).settings.officer_key_path(officer_id)
    if path.exists():
        raise InvalidInput(f"--public-key: a key file for {officer_id} already exists at {path}")
    passphrase = passphrase_from(
        "WATCHLIST_NEW_PASSPHRASE", f"New passphrase for {officer_id}'s key", confirm=True
    )
    private = keys.generate()
    return NewKey(keys.public_b64(private.public_key()), private, passphrase)


@app.command("enrol")
def enrol(
    ctx: typer.Context,
    officer_id: Annotated[str, typer.Argument(help="The new officer's id, e.g. PS-1001.")],
    name: Annotated[str, typer.Option(help="The officer's name.")],
    rank: Annotated[Rank, typer.Option(help="The officer's rank.")],
    role: Annotated[list[Role], typer.Option("--role", help="A role (repeat for several).")],
    public_key: Annotated[
        Path | None, typer.Option(help="PEM public key; omit to generate a key pair.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Enrol an officer with their public key (admin)."""
    session = session_of(ctx)
    check_officer_id(officer_id)
    signer = session.signer()
    if session.app().officers.is_enrolled(officer_id):
        raise Conflict(f"officer: {officer_id} is already enrolled")
    key = new_key(ctx, officer_id, public_key)
    state = session.app().officers.enrol(
        signer, officer_id, name, rank, frozenset(role), key.public
    )
    key.store(session.settings.officer_key_path(officer_id))
    view = officer_view(state)
    emit(
        {k: view[k] for k in ("officer_id", "key_id", "rank", "roles")},
        as_json,
        f"Enrolled {officer_id}.",
    )


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    officer_id: Annotated[str, typer.Argument(help="The officer to revoke.")],
    reason: Reason,
    as_json: JsonFlag = False,
) -> None:
    """Revoke an officer: nothing they sign from now on is valid (admin)."""
    session = session_of(ctx)
    state = session.app().officers.revoke(session.signer(), officer_id, reason)
    emit(
        {"officer_id": officer_id, "revoked_at": instant(state.revoked_at)},
        as_json,
        f"Revoked {officer_id}.",
    )


@app.command("rank")
def change_rank(
    ctx: typer.Context,
    officer_id: Annotated[str, typer.Argument(help="The officer whose rank changed.")],
    rank: Annotated[Rank, typer.Option(help="The new rank.")],
    reason: Reason,
    as_json: JsonFlag = False,
) -> None:
    """Record a change of rank (admin)."""
    session = session_of(ctx)
    state = session.app().officers.change_rank(session.signer(), officer_id, rank, reason)
    emit(officer_view(state), as_json, f"{officer_id} now holds rank {rank.value}.")


@app.command("roles")
def change_roles(
    ctx: typer.Context,
    officer_id: Annotated[str, typer.Argument(help="The officer whose roles change.")],
    role: Annotated[list[Role], typer.Option("--role", help="A role (repeat for several).")],
    reason: Reason,
    as_json: JsonFlag = False,
) -> None:
    """Replace an officer's roles (admin)."""
    session = session_of(ctx)
    state = session.app().officers.change_roles(
        session.signer(), officer_id, frozenset(role), reason
    )
    emit(
        officer_view(state),
        as_json,
        f"{officer_id} now has roles {', '.join(sorted(state.roles))}.",
    )


@app.command("rotate-key")
def rotate_key(
    ctx: typer.Context,
    officer_id: Annotated[str, typer.Argument(help="The officer whose key is replaced.")],
    reason: Reason,
    public_key: Annotated[Path | None, typer.Option(help="The new PEM public key.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Register a new key for an officer; the old key signs nothing valid afterwards (admin)."""
    session = session_of(ctx)
    signer = session.signer()
    if public_key is None:
        raise InvalidInput("--public-key: give the officer's new public key (see 'officer keygen')")
    key = new_key(ctx, officer_id, public_key)
    state = session.app().officers.rotate_key(signer, officer_id, key.public, reason)
    emit(officer_view(state), as_json, f"Rotated the key of {officer_id}.")


@app.command("keygen")
def keygen(
    ctx: typer.Context,
    officer_id: Annotated[str, typer.Argument(help="Whose key pair to generate.")],
    output: Annotated[Path, typer.Option(help="Where to write the encrypted private key.")],
    public_output: Annotated[Path, typer.Option(help="Where to write the PEM public key.")],
    as_json: JsonFlag = False,
) -> None:
    """Generate a key pair on your own machine, to hand the public key to an admin."""
    check_officer_id(officer_id)
    for path in (output, public_output):
        if path.exists():
            raise InvalidInput(f"--output: {path} already exists")
    passphrase = passphrase_from(
        "WATCHLIST_NEW_PASSPHRASE", f"New passphrase for {officer_id}'s key", confirm=True
    )
    private = keys.generate()
    keys.write_private_key(output, private, passphrase)
    public_output.write_bytes(keys.public_pem(private.public_key()))
    public = keys.public_b64(private.public_key())
    emit(
        {
            "officer_id": officer_id,
            "key_id": keys.key_id(public),
            "public_key_file": str(public_output),
        },
        as_json,
        "Key pair written.",
    )


@app.command("list")
def list_officers(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List every officer with their rank, roles, key and status."""
    rows = [officer_view(state) for state in session_of(ctx).app().officers.all()]
    emit_rows(
        rows, ["officer_id", "name", "rank", "roles", "key_id", "status"], as_json, "Officers"
    )
