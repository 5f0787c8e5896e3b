"""``watchlist inclusion``: was this entry on the list, current and justified at T, as known at R?"""

from __future__ import annotations

from typing import Annotated

import typer

from commands.render import JSON_HELP, emit, emit_json
from commands.session import deployment_id, entry_id, session_of
from governance.services.inclusion import KnownAt, answer_inclusion
from governance.times import format_instant, parse_instant


def inclusion(
    ctx: typer.Context,
    entry: Annotated[str, typer.Argument(help="The entry id.")],
    at: Annotated[str, typer.Option("--at", help="The instant T judged (ISO 8601 with offset).")],
    known_at: Annotated[
        str, typer.Option(help="now, an instant, or deployment:ID (as the system knew it then).")
    ] = "now",
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Answer for one entry at T, as known now, at an instant, or at a deployment's basis."""
    when = parse_instant(at, "at")
    if known_at.startswith("deployment:"):
        known = KnownAt(deployment_id=deployment_id(known_at.removeprefix("deployment:")))
    elif known_at != "now":
        known = KnownAt(instant=parse_instant(known_at, "known-at"))
    else:
        known = KnownAt()
    on, view = answer_inclusion(session_of(ctx).app(), entry_id(entry), when, known)
    document = {
        "entry_id": view.entry_id,
        "at": format_instant(when),
        "known_at": known_at,
        "basis": on.known_at,
        "policy_version": on.policy_version,
        "version": view.version,
        "listed": view.assessment.listed,
        "current": view.assessment.current,
        "justified": view.assessment.justified,
        "reasons": list(view.assessment.reasons),
        "evidence": view.evidence,
    }
    if as_json:
        emit_json(document)
    else:
        verdict = "justified" if view.assessment.justified else "NOT justified"
        emit(
            {k: v for k, v in document.items() if k != "evidence"},
            False,
            f"{view.entry_id}: {verdict}",
        )
