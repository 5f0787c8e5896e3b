"""Deployments in the projection, and each deployment's watchlist as the system knew it then.

A deployment's "then" view (every entry its gate considered, judged at go-live as known at the
compile's basis position) can never change: it rests only on records at or before the basis. So the
projection judges it once, in the transaction that projects the Compiled event (and again if the
deployment goes live at another instant than planned), and stores it; a reconstruction reads it
back instead of judging every entry again. The judgement reads only rows at or before the basis, so
a rebuild from scratch writes the same document.
"""

from __future__ import annotations

import json
from typing import Any

from governance.envelope import Envelope
from governance.times import from_micros, to_micros
from governance.vocabulary import Category
from projections.judging import Basis, basis, verdict, views
from projections.storage import Tx

DEPLOYMENT = "watchlist:Deployment."

#: One deployment's row: planned start, categories (JSON), started at, basis, considered ids (JSON).
Plan = list[Any]


#: A watchlist to judge: deployment, instant, basis, considered entry ids, permitted categories.
Judging = tuple[str, int, int, str, str]


def project_deployment(
    plans: dict[str, Plan], due: list[Judging], tx: Tx, stream: str, kind: str, envelope: Envelope
) -> None:
    """Keep the deployment's plan; when its basis or go-live instant is set, its watchlist is due.

    Each Compiled or Started event makes one judgement due, whether or not the next event of the
    deployment arrives in the same batch, so catching up in any steps writes the same rows.
    """
    payload = envelope.payload
    if kind == "Authorised":
        plans[stream] = [
            to_micros(payload["planned_start"]),
            json.dumps(payload["categories"]),
            None,
            None,
            None,
        ]
        return
    plan = plans.get(stream) or _stored_plan(tx, stream)
    plans[stream] = plan
    if kind == "Compiled":
        considered = [m["entry_id"] for m in payload["manifest"]]
        considered += [x["entry_id"] for x in payload["excluded"]]
        plan[3], plan[4] = int(payload["basis"]), json.dumps(considered)
    elif kind == "Started":
        plan[2] = to_micros(envelope.effective_at)
    else:
        return
    planned, categories, started, known_at, considered_ids = plan
    due.append(
        (stream, planned if started is None else started, known_at, considered_ids, categories)
    )


def _stored_plan(tx: Tx, stream: str) -> Plan:
    row = tx.one(
        "SELECT planned_start, categories, started_at, basis, considered FROM {t}wl_deployments "
        "WHERE deployment_id = ?",
        (stream,),
    )
    assert row is not None, "a deployment is authorised before anything else is recorded on it"
    return list(row)


def write_plans(tx: Tx, plans: dict[str, Plan], due: list[Judging]) -> None:
    """Store the plans, then judge each changed deployment's watchlist as known at its basis.

    Runs after the batch's other rows are written, in the same transaction, so the judgement sees
    every fact up to the basis even when the facts and the compile arrive in one batch.
    """
    if plans:
        tx.many(
            "INSERT INTO {t}wl_deployments VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (deployment_id) "
            "DO UPDATE SET started_at = excluded.started_at, basis = excluded.basis, "
            "considered = excluded.considered",
            [(stream, *plan) for stream, plan in plans.items()],
        )
    for stream, at, known_at, considered, categories in dict.fromkeys(due):
        on = basis(tx, from_micros(at), known_at, [Category(c) for c in json.loads(categories)])
        tx.run(
            "INSERT INTO {t}wl_then_views VALUES (?, ?, ?, ?) "
            "ON CONFLICT (deployment_id, at, basis) DO NOTHING",
            (stream, at, known_at, json.dumps(judge_then(tx, json.loads(considered), on))),
        )


def judge_then(tx: Tx, considered: list[str], on: Basis) -> dict[str, Any]:
    """Each considered entry's verdict on ``on``, with the officer who authorised it."""
    found = views(tx, considered, on)
    return {
        entry_id: {"verdict": verdict(view), "authorised_by": view.state.authorised_by}
        for entry_id, view in found.items()
    }


def stored_then(tx: Tx, deployment_id: str, on: Basis) -> dict[str, Any] | None:
    """The stored "then" view of a deployment on ``on``, if the projection holds it."""
    row = tx.one(
        "SELECT views FROM {t}wl_then_views WHERE deployment_id = ? AND at = ? AND basis = ?",
        (deployment_id, to_micros(on.at), on.known_at),
    )
    if row is None:
        return None
    found: dict[str, Any] = json.loads(row[0])
    return found
