"""``watchlist sweep``: the scheduled retention run (cron or a systemd timer), and legal holds."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import Progress

from commands.render import JSON_HELP, emit, messages
from commands.session import entry_id, session_of
from governance import clock
from governance.services.sweep import exclusive, sweep
from projections.retention import due

JsonFlag = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
holds = typer.Typer(no_args_is_help=True, help="Place and release legal holds (legal).")


def run(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what is due; change nothing.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Expire lapsed entries, flag overdue reviews, warn of expiries, erase data past retention."""
    session = session_of(ctx)
    app = session.app()
    signer = None if dry_run else session.signer()
    with exclusive(app):
        now = clock.now()
        pending = due(app, now, app.policies.at(now).document)
        total = len(pending.expire) + len(pending.erase)
        with Progress(console=messages, transient=True, disable=total < 50 or as_json) as bar:
            task = bar.add_task("sweeping", total=total)
            result = sweep(app, signer, pending, dry_run, lambda n: bar.advance(task, n))  # type: ignore[arg-type]
    document = result.document(pending)
    summary = "Dry run: nothing changed." if dry_run else f"Sweep {result.run_id} recorded."
    emit(document, as_json, summary)


@holds.command("place")
def place(
    ctx: typer.Context,
    entry: Annotated[str, typer.Argument(help="The entry id.")],
    case_ref: Annotated[str, typer.Option(help="The case the data is held for.")],
    reason: Annotated[str, typer.Option(help="Why it must be kept.")],
    as_json: JsonFlag = False,
) -> None:
    """Place a legal hold: the entry's personal data is never erased while it stands."""
    session = session_of(ctx)
    record = session.app().retention.place_hold(session.signer(), entry_id(entry), case_ref, reason)
    emit(
        {"entry_id": record.entry_id, "held": record.held, "cases": sorted(record.holds)},
        as_json,
        "Hold placed.",
    )


@holds.command("release")
def release(
    ctx: typer.Context,
    entry: Annotated[str, typer.Argument(help="The entry id.")],
    reason: Annotated[str, typer.Option(help="Why the hold ends.")],
    case_ref: Annotated[str | None, typer.Option(help="Which case's hold (when several).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Release a legal hold."""
    session = session_of(ctx)
    record = session.app().retention.release_hold(
        session.signer(), entry_id(entry), case_ref, reason
    )
    emit(
        {"entry_id": record.entry_id, "held": record.held, "cases": sorted(record.holds)},
        as_json,
        "Hold released.",
    )
