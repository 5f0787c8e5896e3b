"""``watchlist policy ...``: publish policy versions and read the one in force at an instant."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from commands.render import JSON_HELP, emit, emit_json, stdout
from commands.session import read_input, session_of
from governance import clock
from governance.domain.policy import parse_policy
from governance.times import format_instant, parse_optional_instant

app = typer.Typer(no_args_is_help=True, help="Publish and read policy versions.")

JsonFlag = Annotated[bool, typer.Option("--json", help=JSON_HELP)]


@app.command("publish")
def publish(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Policy document, TOML (.toml) or JSON.")],
    effective_at: Annotated[
        str | None, typer.Option(help="When it takes effect (default now; never the past).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Publish the next policy version (admin)."""
    session = session_of(ctx)
    document = parse_policy(read_input(file, "file"), file.name)
    at = parse_optional_instant(effective_at, "effective-at")
    version = session.app().policies.publish(session.signer(), document, at)
    assert version.effective_at is not None
    emit(
        {"version": version.version, "effective_at": format_instant(version.effective_at)},
        as_json,
        "Published.",
    )


@app.command("show")
def show(
    ctx: typer.Context,
    at: Annotated[str | None, typer.Option("--at", help="The instant (default now).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show the policy document in force at an instant, with its version."""
    instant = parse_optional_instant(at, "at") or clock.now()
    in_force = session_of(ctx).app().policies.at(instant)
    document = {
        "version": in_force.version,
        "effective_at": None
        if in_force.effective_at is None
        else format_instant(in_force.effective_at),
        **in_force.document.as_record(),
    }
    if as_json:
        emit_json(document)
        return
    stdout.print(f"Policy version {in_force.version} in force at {format_instant(instant)}:")
    emit(document, False)
