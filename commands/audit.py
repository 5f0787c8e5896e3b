"""``watchlist audit ...``: verify the record, sign checkpoints, prove inclusion and consistency."""

from __future__ import annotations

import base64
import os
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from commands import witness
from commands.errors import stderr
from commands.render import JSON_HELP, emit, emit_json, emit_rows, stdout
from commands.session import (
    Session,
    entry_id,
    passphrase_from,
    read_text_input,
    session_of,
)
from governance.errors import IntegrityFailure, InvalidInput
from governance.ledger.log import Ledger, read_log_key
from governance.services.export import export_record
from governance.services.store_audit import AuditReport, audit_record

app = typer.Typer(no_args_is_help=True, help="Verify the record and prove it was only appended to.")
app.add_typer(witness.app, name="witness")

JsonFlag = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
#: ``audit verify``: no failure, but events after the largest trusted checkpoint (as the offline
#: verifier's exit 4).
UNVERIFIED_TAIL = 4


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@app.command("verify")
def verify(
    ctx: typer.Context,
    trusted: Annotated[
        list[Path] | None, typer.Option("--trusted", help="A checkpoint you hold; repeatable.")
    ] = None,
    since: Annotated[
        Path | None,
        typer.Option(
            help="Only check what was appended after this trusted checkpoint (incremental)."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check every event, the Merkle log and every trusted checkpoint.

    Exit 3 on any failure; exit 4 (verdict ``unverified_tail``) when events follow the largest
    trusted checkpoint; exit 0 (``verified``) only otherwise.
    """
    held = [(path.name, read_text_input(path, "--trusted")) for path in trusted or []]
    start = (since.name, read_text_input(since, "--since")) if since else None
    report = audit_record(session_of(ctx).app(), held, start)
    render(report, as_json)
    if report.verdict == "failed":
        raise IntegrityFailure(report.failures)
    if report.verdict == "unverified_tail":
        stderr().print(
            f"unverified tail: {report.unverified_tail} event(s) after the largest trusted "
            f"checkpoint (size {report.trusted_size}) are not covered by any trusted checkpoint"
        )
        raise typer.Exit(UNVERIFIED_TAIL)


def render(report: AuditReport, as_json: bool) -> None:
    document = {
        "ok": report.verdict == "verified",
        "verdict": report.verdict,
        "events": report.events,
        "tree_size": report.tree_size,
        "root": b64(report.root),
        "trusted_size": report.trusted_size,
        "unverified_tail": report.unverified_tail,
        "failures": [asdict(f) for f in report.failures],
    }
    if as_json:
        emit_json(document)
        return
    verdict = {
        "verified": "OK",
        "unverified_tail": "UNVERIFIED TAIL",
        "failed": f"FAILED: {len(report.failures)} problem(s)",
    }[report.verdict]
    stdout.print(
        f"{verdict}: {report.events} events, Merkle tree size {report.tree_size}, root {b64(report.root)}"
    )
    if report.trusted_size is not None:
        stdout.print(
            f"  consistent with trusted checkpoints up to size {report.trusted_size}; "
            f"{report.unverified_tail} later event(s) are not yet covered by any trusted checkpoint"
        )


def log_signing_key(session: Session) -> Ed25519PrivateKey:
    """The log key, unlocked with WATCHLIST_LOG_PASSPHRASE (else WATCHLIST_PASSPHRASE, else a prompt)."""
    variable = (
        "WATCHLIST_LOG_PASSPHRASE"
        if os.environ.get("WATCHLIST_LOG_PASSPHRASE")
        else "WATCHLIST_PASSPHRASE"
    )
    passphrase = passphrase_from(variable, "Log key passphrase")
    return read_log_key(session.settings.log_key_path, passphrase)


@app.command("checkpoint")
def checkpoint(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option(help="Also write the checkpoint to this file.")
    ] = None,
) -> None:
    """Print a signed checkpoint (C2SP tlog-checkpoint) of the log as it stands now."""
    session = session_of(ctx)
    ledger = Ledger(session.app())
    text = ledger.checkpoint(log_signing_key(session))
    if output is not None:
        output.write_text(text, encoding="utf-8")
    stdout.out(text, end="", highlight=False)


@app.command("log-key")
def log_key(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Print the log's verifier key in C2SP signed-note form (NAME+HEXID+BASE64)."""
    key = str(Ledger(session_of(ctx).app()).log_verifier())
    if as_json:
        emit_json({"log_key": key})
    else:
        stdout.out(key, highlight=False)


@app.command("prove")
def prove(
    ctx: typer.Context,
    position: Annotated[
        int | None,
        typer.Option(min=1, help="Inclusion proof for the event at this store position."),
    ] = None,
    from_size: Annotated[
        int | None, typer.Option(min=1, help="Consistency proof from this tree size.")
    ] = None,
    to_size: Annotated[
        int | None, typer.Option(min=1, help="Consistency proof to this size (default: now).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Prove an event is in the log (--position), or that the log only grew (--from-size)."""
    if (position is None) == (from_size is None):
        raise InvalidInput("--position: give exactly one of --position or --from-size")
    ledger = Ledger(session_of(ctx).app())
    if position is not None:
        inclusion = ledger.inclusion(position)
        document = {
            "position": inclusion.position,
            "leaf_index": inclusion.leaf_index,
            "tree_size": inclusion.tree_size,
            "leaf_hash": inclusion.leaf_hash.hex(),
            "proof": [p.hex() for p in inclusion.proof],
            "root": b64(inclusion.root),
        }
    else:
        assert from_size is not None
        consistency = ledger.consistency(from_size, to_size)
        document = {
            "old_size": consistency.old_size,
            "new_size": consistency.new_size,
            "old_root": b64(consistency.old_root),
            "new_root": b64(consistency.new_root),
            "proof": [p.hex() for p in consistency.proof],
        }
    emit(document, as_json)


@app.command("export")
def export(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="An empty or new directory for the bundle.")],
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option("--checkpoint", help="A (cosigned) checkpoint to include; repeatable."),
    ] = None,
    witness_key: Annotated[
        list[str] | None,
        typer.Option("--witness-key", help="A witness verifier key to include; repeatable."),
    ] = None,
    purpose: Annotated[
        str, typer.Option(help="Why the record is disclosed (logged, DPA 2018 s.62).")
    ] = "",
    recipient: Annotated[
        str, typer.Option(help="Who receives the bundle (logged).")
    ] = "internal legal review",
    sign: Annotated[bool, typer.Option(help="Sign a fresh checkpoint with the log key.")] = True,
    as_json: JsonFlag = False,
) -> None:
    """Write an offline bundle that 'python -m governance.offline.bundle DIR' checks with no store (legal)."""
    session = session_of(ctx)
    texts = [read_text_input(path, "--checkpoint") for path in checkpoint or []]
    manifest = export_record(
        session.app(),
        session.signer(),
        directory,
        texts,
        witness_key or [],
        purpose,
        recipient,
        (lambda: log_signing_key(session)) if sign else None,
    )
    summary = {k: manifest[k] for k in ("origin", "events", "tree_size", "root")}
    emit({**summary, "directory": str(directory)}, as_json, "Bundle written.")


@app.command("access")
def access(
    ctx: typer.Context,
    entry: Annotated[
        str | None, typer.Option("--entry", help="Only accesses concerning this entry.")
    ] = None,
    officer: Annotated[
        str | None, typer.Option("--officer", help="Only accesses by this officer.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List every consultation of personal data and every disclosure (legal or admin)."""
    session = session_of(ctx)
    wanted = str(entry_id(entry)) if entry else None
    rows = [
        asdict(a) for a in session.app().disclosures.accesses(session.signer(), wanted, officer)
    ]
    columns = ["position", "at", "officer_id", "kind", "entry_id", "purpose", "recipient"]
    emit_rows(rows, columns, as_json, "Access log")
