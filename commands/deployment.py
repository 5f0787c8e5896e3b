"""``watchlist deployment ...``: authorise, compile through the gate, start, end, show, reconstruct."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from commands.render import JSON_HELP, emit, emit_json, note, stdout
from commands.session import deployment_id, session_of
from governance.domain.deployment import UseCase, describe
from governance.domain.vocabulary import Category
from governance.errors import InvalidInput
from governance.services.compiling import compile_watchlist
from governance.services.reconstruction import reconstruct_deployment
from governance.times import format_instant, parse_instant
from projections.report import Format, render

app = typer.Typer(no_args_is_help=True, help="Authorise, compile, run and reconstruct deployments.")

JsonFlag = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
DeploymentArg = Annotated[str, typer.Argument(help="The deployment id.")]


@app.command("authorise")
def authorise(
    ctx: typer.Context,
    location: Annotated[str, typer.Option(help="Where the cameras will be.")],
    location_reason: Annotated[str, typer.Option(help="Why people sought are expected there.")],
    objective: Annotated[str, typer.Option(help="The policing objective.")],
    use_case: Annotated[
        UseCase, typer.Option(help="hotspot, protective_security or intelligence_led.")
    ],
    category: Annotated[
        list[Category], typer.Option("--category", help="A category sought; repeatable.")
    ],
    start: Annotated[str, typer.Option(help="Planned start (ISO 8601 with offset).")],
    end: Annotated[str, typer.Option(help="Planned end (ISO 8601 with offset).")],
    as_json: JsonFlag = False,
) -> None:
    """Authorise a deployment: where, why there, what for, whom, when (authoriser)."""
    session = session_of(ctx)
    problems, window = [], []
    for name, text in (("start", start), ("end", end)):
        try:
            window.append(parse_instant(text, name))
        except InvalidInput as error:
            problems += error.problems
    if problems:
        raise InvalidInput(problems)
    done = session.app().deployments.authorise(
        session.signer(),
        location,
        location_reason,
        objective,
        use_case,
        category,
        window[0],
        window[1],
    )
    emit({"deployment_id": str(done.id)}, as_json, "Deployment authorised.")


@app.command("compile")
def compile_(ctx: typer.Context, deployment: DeploymentArg, as_json: JsonFlag = False) -> None:
    """Compile the watchlist through the gate: only current, justified entries go on it (custodian)."""
    session = session_of(ctx)
    done = compile_watchlist(session.app(), session.signer(), deployment_id(deployment))
    compiled = done.compilation
    assert compiled is not None
    if compiled["size_warning"]:
        note(
            f"[yellow]warning:[/] {len(compiled['manifest'])} entries exceed the policy's size warning threshold"
        )
    result = {
        "deployment_id": str(done.id),
        "basis": compiled["basis"],
        "judged_at": format_instant(compiled["judged_at"]),
        "manifest_sha256": compiled["manifest_sha256"],
        "included": [m["entry_id"] for m in compiled["manifest"]],
        "excluded": compiled["excluded"],
    }
    emit(
        result,
        as_json,
        f"Compiled: {len(result['included'])} included, {len(result['excluded'])} excluded.",
    )


@app.command("start")
def start(ctx: typer.Context, deployment: DeploymentArg, as_json: JsonFlag = False) -> None:
    """Go live (authoriser): refused if the compile is stale or the window has passed."""
    session = session_of(ctx)
    done = session.app().deployments.start(session.signer(), deployment_id(deployment))
    assert done.started_at is not None
    emit(
        {"deployment_id": str(done.id), "started_at": format_instant(done.started_at)},
        as_json,
        "Started.",
    )


@app.command("end")
def end(ctx: typer.Context, deployment: DeploymentArg, as_json: JsonFlag = False) -> None:
    """End the deployment (authoriser)."""
    session = session_of(ctx)
    done = session.app().deployments.end(session.signer(), deployment_id(deployment))
    assert done.ended_at is not None
    emit(
        {"deployment_id": str(done.id), "ended_at": format_instant(done.ended_at)},
        as_json,
        "Ended.",
    )


@app.command("show")
def show(ctx: typer.Context, deployment: DeploymentArg, as_json: JsonFlag = False) -> None:
    """Show the deployment record (no personal data)."""
    record = describe(session_of(ctx).app().deployments.get(deployment_id(deployment)))
    if as_json:
        emit_json(record)
    else:
        emit({k: v for k, v in record.items() if k not in ("manifest", "excluded")}, False)


@app.command("reconstruct")
def reconstruct_(
    ctx: typer.Context,
    deployment: DeploymentArg,
    format_: Annotated[Format, typer.Option("--format", help="json, md or html.")] = Format.JSON,
    output: Annotated[Path | None, typer.Option(help="Write the report to this file.")] = None,
) -> None:
    """Every entry the gate judged, as known then and as known now, side by side (legal)."""
    session = session_of(ctx)
    result = reconstruct_deployment(session.app(), session.signer(), deployment_id(deployment))
    if not result.manifest_matches:
        note("[bold red]warning:[/] the compiled manifest does not match the record as known then")
    text = (
        json.dumps(result.to_json(), indent=2) + "\n"
        if format_ is Format.JSON
        else render(result, format_)
    )
    if output is not None:
        output.write_text(text, encoding="utf-8")
        note(f"Report written to {output}.")
    else:
        stdout.out(text, end="", highlight=False)
