"""``watchlist entry ...``: the entry lifecycle, from proposal to removal, and reading it back."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from commands.documents import entry_view, history_view, instant
from commands.render import JSON_HELP, emit, emit_rows
from commands.session import entry_id, read_input, session_of
from governance import clock
from governance.domain.entry import Entry
from governance.domain.vocabulary import RemovalReason, ReviewOutcome, SourceStatus, Status
from governance.errors import IntegrityFailure, InvalidInput
from governance.times import parse_optional_instant

app = typer.Typer(
    no_args_is_help=True, help="Propose, authorise, check, review and remove entries."
)

JsonFlag = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
EntryArg = Annotated[str, typer.Argument(help="The entry id.")]
LIST_COLUMNS = ["entry_id", "status", "category", "review_by", "expires_at", "source_status"]


@app.command("propose")
def propose(
    ctx: typer.Context,
    file: Annotated[Path, typer.Option("--file", help="ENTRY.json describing the proposal.")],
    as_json: JsonFlag = False,
) -> None:
    """Propose an entry (custodian); it is not active until authorised."""
    from governance.domain.proposal import parse_proposal  # pydantic: only proposing needs it

    session = session_of(ctx)
    proposal = parse_proposal(read_input(file, "--file"))
    entry = session.app().entries.propose(session.signer(), proposal)
    emit({"entry_id": str(entry.id), "status": entry.status.value}, as_json, "Proposed an entry.")


@app.command("authorise")
def authorise(
    ctx: typer.Context,
    entry: EntryArg,
    rationale: Annotated[
        str, typer.Option(help="Why the inclusion is necessary and proportionate.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Authorise a proposed entry (authoriser, not the proposer, of sufficient rank)."""
    session = session_of(ctx)
    done = session.app().entries.authorise(session.signer(), entry_id(entry), rationale)
    emit({"entry_id": str(done.id), "status": done.status.value}, as_json, "Authorised.")


@app.command("verify-source")
def verify_source(
    ctx: typer.Context,
    entry: EntryArg,
    status: Annotated[SourceStatus, typer.Option(help="What the source record says now.")],
    checked_at: Annotated[
        str | None, typer.Option(help="When it was checked (default now).")
    ] = None,
    note: Annotated[str | None, typer.Option(help="What was checked, and where.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a check of the source record: warrant still live, or resolved (custodian)."""
    session = session_of(ctx)
    at = parse_optional_instant(checked_at, "checked-at")
    done = session.app().entries.verify_source(session.signer(), entry_id(entry), status, at, note)
    result = {
        "entry_id": str(done.id),
        "source_status": status.value,
        "verified_at": instant(done.state.source_verified_at),
    }
    emit(result, as_json, "Source check recorded.")


@app.command("review")
def review(
    ctx: typer.Context,
    entry: EntryArg,
    outcome: Annotated[ReviewOutcome, typer.Option(help="retain or remove.")],
    rationale: Annotated[str, typer.Option(help="The reviewer's reasoning.")],
    review_by: Annotated[
        str | None, typer.Option(help="Next review due (default: the maximum).")
    ] = None,
    expires_at: Annotated[str | None, typer.Option(help="New expiry, to extend the entry.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a periodic review: retain with the next review date, or remove (reviewer)."""
    session = session_of(ctx)
    problems = []
    try:
        next_review = parse_optional_instant(review_by, "review-by")
    except InvalidInput as error:
        problems += error.problems
        next_review = None
    try:
        expiry = parse_optional_instant(expires_at, "expires-at")
    except InvalidInput as error:
        problems += error.problems
        expiry = None
    if problems:
        raise InvalidInput(problems)
    done = session.app().entries.review(
        session.signer(), entry_id(entry), outcome, rationale, next_review, expiry
    )
    result = {
        "entry_id": str(done.id),
        "status": done.status.value,
        "review_by": instant(done.review_by),
    }
    emit(result, as_json, "Review recorded.")


@app.command("remove")
def remove(
    ctx: typer.Context,
    entry: EntryArg,
    reason: Annotated[RemovalReason, typer.Option(help="Why the entry leaves the watchlist.")],
    effective_at: Annotated[
        str | None, typer.Option(help="When it took effect (default now).")
    ] = None,
    note: Annotated[str | None, typer.Option(help="Free-text note.")] = None,
    backdate_reason: Annotated[
        str | None, typer.Option(help="Why it is recorded late (>24h).")
    ] = None,
    source_ref: Annotated[
        str | None, typer.Option(help="Reference for a late record (>24h).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Remove an entry from the watchlist (custodian)."""
    session = session_of(ctx)
    at = parse_optional_instant(effective_at, "effective-at")
    done = session.app().entries.remove(
        session.signer(), entry_id(entry), reason, at, note, backdate_reason, source_ref
    )
    result = {
        "entry_id": str(done.id),
        "status": done.status.value,
        "effective_at": instant(done.state.removed_at or at or clock.now()),
        "awaiting_confirmation": list(done.state.pending),
    }
    emit(
        result,
        as_json,
        "Removed." if not done.state.pending else "Recorded; a second officer must confirm it.",
    )


@app.command("correct")
def correct(
    ctx: typer.Context,
    entry: EntryArg,
    event: Annotated[
        int, typer.Option("--event", min=1, help="Version of the fact to correct (see history).")
    ],
    why: Annotated[str, typer.Option(help="Why the earlier record was wrong.")],
    effective_at: Annotated[str | None, typer.Option(help="The corrected effective time.")] = None,
    reason: Annotated[RemovalReason | None, typer.Option(help="Corrected removal reason.")] = None,
    status: Annotated[SourceStatus | None, typer.Option(help="Corrected source status.")] = None,
    review_by: Annotated[str | None, typer.Option(help="Corrected next review date.")] = None,
    source_ref: Annotated[
        str | None, typer.Option(help="Reference for a correction dated >24h back.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Supersede a recorded fact with a corrected one (nothing is edited)."""
    session = session_of(ctx)
    at = parse_optional_instant(effective_at, "effective-at")
    changes: dict[str, object] = {}
    if reason is not None:
        changes["reason"] = reason.value
    if status is not None:
        changes["status"] = status.value
    if review_by is not None:
        changes["review_by"] = parse_optional_instant(review_by, "review-by")
    done = session.app().entries.correct(
        session.signer(), entry_id(entry), event, at, changes, why, source_ref
    )
    emit(after_change(done), as_json, "Correction recorded.")


@app.command("retract")
def retract(
    ctx: typer.Context,
    entry: EntryArg,
    event: Annotated[int, typer.Option("--event", min=1, help="Version of the fact to withdraw.")],
    why: Annotated[str, typer.Option(help="Why the fact never held.")],
    as_json: JsonFlag = False,
) -> None:
    """Withdraw a recorded fact as never having held."""
    session = session_of(ctx)
    done = session.app().entries.retract(session.signer(), entry_id(entry), event, why)
    emit(after_change(done), as_json, "Retraction recorded.")


@app.command("confirm")
def confirm(
    ctx: typer.Context,
    entry: EntryArg,
    event: Annotated[
        int, typer.Option("--event", min=1, help="Version of the late fact to confirm.")
    ],
    note: Annotated[str, typer.Option(help="What the confirming officer checked.")],
    as_json: JsonFlag = False,
) -> None:
    """Confirm, as a second officer, a fact recorded more than the policy's limit late."""
    session = session_of(ctx)
    done = session.app().entries.confirm(session.signer(), entry_id(entry), event, note)
    emit(after_change(done), as_json, "Confirmed.")


def after_change(entry: Entry) -> dict[str, object]:
    """The result of a correction, retraction or confirmation."""
    return {
        "entry_id": str(entry.id),
        "status": entry.status.value,
        "version": entry.version,
        "awaiting_confirmation": list(entry.state.pending),
    }


@app.command("erase")
def erase(
    ctx: typer.Context,
    entry: EntryArg,
    reason: Annotated[str, typer.Option(help="Why the personal data is erased.")],
    as_json: JsonFlag = False,
) -> None:
    """Erase a removed or expired entry's personal data by destroying its key (admin)."""
    session = session_of(ctx)
    record = session.app().retention.erase(session.signer(), entry_id(entry), reason)
    assert record.erased_at is not None
    emit(
        {"entry_id": record.entry_id, "erased_at": instant(record.erased_at)},
        as_json,
        "Personal data erased.",
    )


@app.command("show")
def show(
    ctx: typer.Context,
    entry: EntryArg,
    purpose: Annotated[
        str | None,
        typer.Option(help="Reveal the personal data for this purpose (recorded, signed)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show an entry's governance record; the subject only with --purpose, to allowed roles."""
    session = session_of(ctx)
    signer = session.signer() if purpose is not None else None
    found, subject = session.app().entries.shown(entry_id(entry), signer, purpose)
    emit({**entry_view(found, clock.now()), "subject": subject}, as_json)


@app.command("list")
def list_entries(
    ctx: typer.Context,
    status: Annotated[Status | None, typer.Option(help="Only entries with this status.")] = None,
    due_within: Annotated[
        int | None, typer.Option(min=0, help="Only entries whose review is due within DAYS.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List entries (never with personal data)."""
    now = clock.now()
    rows = [entry_view(e, now) for e in session_of(ctx).app().entries.all()]
    if status is not None:
        rows = [row for row in rows if row["status"] == status.value]
    if due_within is not None:
        horizon = instant(now + timedelta(days=due_within))
        rows = [row for row in rows if row["status"] == "active" and row["review_by"] <= horizon]
    emit_rows(rows, LIST_COLUMNS, as_json, "Entries")


@app.command("history")
def history(ctx: typer.Context, entry: EntryArg, as_json: JsonFlag = False) -> None:
    """Every event of an entry: who, when (both times), where in the store, signature valid?"""
    items = session_of(ctx).app().entries.history(entry_id(entry))
    rows = [history_view(item) for item in items]
    columns = ["version", "type", "recorded_at", "effective_at", "actor", "position", "signature"]
    emit_rows(rows, columns, as_json, f"History of {entry}")
    bad = [f for item in items for f in item.checked.failures()]
    if bad:
        raise IntegrityFailure(bad)
