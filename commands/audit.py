"""``watchlist audit ...``: verify the whole record."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from commands.render import JSON_HELP, emit, emit_json, stdout
from commands.session import session_of
from governance.audit import verify_store
from governance.errors import IntegrityFailure

app = typer.Typer(no_args_is_help=True, help="Verify the record and prove it was only appended to.")

JsonFlag = Annotated[bool, typer.Option("--json", help=JSON_HELP)]


@app.command("verify")
def verify(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Check every event: signature, signer's standing, stream, chain. Exit 3 on any failure."""
    report = verify_store(session_of(ctx).app())
    document = {
        "ok": report.ok,
        "events": report.events,
        "failures": [asdict(f) for f in report.failures],
    }
    if as_json:
        emit_json(document)
    elif report.ok:
        stdout.print(f"OK: {report.events} events verified.")
    else:
        emit(
            {"ok": False, "events": report.events},
            False,
            f"FAILED: {len(report.failures)} problem(s).",
        )
    if not report.ok:
        raise IntegrityFailure(report.failures)
