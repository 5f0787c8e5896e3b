"""``watchlist audit witness ...``: run a witness that cosigns checkpoints and refuses forks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from commands.render import JSON_HELP, emit, stdout
from commands.session import passphrase_from, read_text_input, session_of
from governance import clock
from governance.errors import InvalidInput
from governance.ledger import witness
from governance.ledger.checkpoints import parse_checkpoint
from governance.ledger.log import Ledger
from governance.ledger.note_keys import parse_verifier_key
from governance.ledger.notes import open_note

app = typer.Typer(
    no_args_is_help=True, help="A witness: cosign checkpoints, refuse rollbacks and forks."
)

State = Annotated[Path, typer.Option("--state", help="The witness's own state directory.")]


@app.command("init")
def init(
    state: State,
    name: Annotated[str, typer.Option(help="The witness's name, e.g. legal.example.police.uk.")],
    log_key: Annotated[
        str, typer.Option(help="The log's verifier key (from 'watchlist audit log-key').")
    ],
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Create a witness key and state for one log."""
    passphrase = passphrase_from(
        "WATCHLIST_WITNESS_PASSPHRASE", "New witness key passphrase", confirm=True
    )
    key = witness.init_witness(state, name, log_key, passphrase)
    emit(
        {"name": name, "key": key},
        as_json,
        "Witness created; give its key to whoever checks cosignatures.",
    )


@app.command("cosign")
def cosign(
    ctx: typer.Context,
    checkpoint_file: Annotated[Path, typer.Argument(help="The signed checkpoint to cosign.")],
    state: State,
    proof: Annotated[
        Path | None,
        typer.Option(
            help="Consistency proof JSON from 'audit prove --from-size'; else read from the store."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Also write the cosigned checkpoint here.")
    ] = None,
) -> None:
    """Cosign a checkpoint if it extends the last one cosigned; exit 3 on rollback or fork."""
    text = read_text_input(checkpoint_file, "checkpoint")
    last = witness.WitnessState.load(state)
    hashes = read_proof(proof) if proof is not None else None
    if hashes is None and last.size is not None:
        hashes = proof_from_store(ctx, last.size, text, last.log_key)
    passphrase = passphrase_from("WATCHLIST_WITNESS_PASSPHRASE", "Witness key passphrase")
    cosigned = witness.cosign(state, text, hashes, passphrase, int(clock.now().timestamp()))
    if output is not None:
        output.write_text(cosigned, encoding="utf-8")
    stdout.out(cosigned, end="", highlight=False)


def read_proof(path: Path) -> list[bytes]:
    """Proof hashes from a JSON document with a ``proof`` list of hex strings."""
    try:
        document = json.loads(read_text_input(path, "--proof"))
        return [bytes.fromhex(item) for item in document["proof"]]
    except (OSError, ValueError, KeyError, TypeError):
        raise InvalidInput(f"--proof: {path} is not a consistency proof document") from None


def proof_from_store(
    ctx: typer.Context, old_size: int, text: str, log_key: str
) -> list[bytes] | None:
    """Ask the store (when this machine can reach one) for a proof from ``old_size``."""
    session = session_of(ctx)
    if session.settings.backend == "sqlite" and not session.settings.sqlite_path.exists():
        return None
    new_size = parse_checkpoint(open_note(text, [parse_verifier_key(log_key)]).text).size
    if new_size <= old_size:
        return None
    return Ledger(session.app()).consistency(old_size, new_size).proof
