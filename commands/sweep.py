"""``watchlist sweep``: the scheduled retention run (cron or a systemd timer), and legal holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from rich.progress import Progress

from commands.render import JSON_HELP, emit, messages
from commands.session import entry_id, session_of
from governance.services.sweep import scheduled_sweep

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
    signer = None if dry_run else session.signer()
    with Progress(console=messages, transient=True, disable=as_json) as bar:

        def progress_for(total: int) -> Callable[[int], None]:
            task = bar.add_task("sweeping", total=total, visible=total >= 50)
            return lambda n: bar.advance(task, n)

        document = scheduled_sweep(session.app(), signer, dry_run, progress_for)
    summary = "Dry run: nothing changed." if dry_run else f"Sweep {document['run_id']} recorded."
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
