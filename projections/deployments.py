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
from datetime import datetime
from typing import Any

from governance.domain.judging import Basis
from governance.domain.vocabulary import Category
from governance.times import from_micros, to_micros
from projections.judging import basis, verdict, views
from projections.storage import Tx

#: One deployment's row: planned start, categories (JSON), started at, basis, and the entries the
#: gate considered as JSON ``[manifest ids, excluded ids]``.
Plan = list[Any]

CONSISTENT = "CONSISTENT"
INVALIDATED = "RETROACTIVELY_INVALIDATED"
VALIDATED = "RETROACTIVELY_VALIDATED"
UNJUSTIFIED_THEN = "UNJUSTIFIED_AS_KNOWN_THEN"


#: A watchlist to judge: deployment, instant, basis, considered entries, permitted categories.
Judging = tuple[str, int, int, str, str]


def plan_authorised(
    plans: dict[str, Plan], stream: str, start: datetime, categories: list[str]
) -> None:
    """A new deployment's plan: when it is planned to start and the categories it may seek."""
    plans[stream] = [to_micros(start), json.dumps(categories), None, None, None]


def plan_compiled(
    plans: dict[str, Plan],
    due: list[Judging],
    tx: Tx,
    stream: str,
    known_at: int,
    manifest: list[dict[str, Any]],
    excluded: list[dict[str, Any]],
) -> None:
    """The gate's basis and the entries it considered; the watchlist as known then is due."""
    plan = _plan(plans, tx, stream)
    considered = [[m["entry_id"] for m in manifest], [x["entry_id"] for x in excluded]]
    plan[3], plan[4] = int(known_at), json.dumps(considered)
    _judge_later(due, stream, plan)


def plan_started(
    plans: dict[str, Plan], due: list[Judging], tx: Tx, stream: str, started: datetime
) -> None:
    """The go-live instant; the watchlist as known at the basis is due, judged at that instant."""
    plan = _plan(plans, tx, stream)
    plan[2] = to_micros(started)
    _judge_later(due, stream, plan)


def _judge_later(due: list[Judging], stream: str, plan: Plan) -> None:
    """Each Compiled or Started event makes one judgement due, whether or not the deployment's
    next event arrives in the same batch, so catching up in any steps writes the same rows."""
    planned, categories, started, known_at, considered_ids = plan
    due.append(
        (stream, planned if started is None else started, known_at, considered_ids, categories)
    )


def _plan(plans: dict[str, Plan], tx: Tx, stream: str) -> Plan:
    """The deployment's plan, from this batch or else as stored."""
    plan = plans.get(stream) or _stored_plan(tx, stream)
    plans[stream] = plan
    return plan


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
        listed, excluded = json.loads(considered)
        document = judge_then(tx, listed, excluded, on)
        tx.run(
            "INSERT INTO {t}wl_then_views VALUES (?, ?, ?, ?) "
            "ON CONFLICT (deployment_id, at, basis) DO NOTHING",
            (stream, at, known_at, packed(document)),
        )


def packed(document: dict[str, Any]) -> str:
    """The rows as compact JSON: one array per entry and per evidence item, in the order of
    ``ROW`` and ``ITEM``, with what ``unpacked`` can restore left out (each item's stream is its
    entry, a recorded time equal to the effective time is null, "now" is "then", the class follows
    from "then")."""
    rows = [
        [
            e["entry_id"],
            e["on_watchlist"],
            *(e["then"][k] for k in ROW),
            [
                [
                    *(x[k] for k in ITEM),
                    None if x["recorded_at"] == x["effective_at"] else x["recorded_at"],
                ]
                for x in e["then"]["evidence"]
            ],
        ]
        for e in document["entries"]
    ]
    return json.dumps(
        {"rows": rows, "authorised_by": document["authorised_by"]}, separators=(",", ":")
    )


ROW = ("listed", "current", "justified", "reasons", "version")
ITEM = ("fact", "version", "position", "actor", "type", "effective_at")


def unpacked(text: str) -> dict[str, Any]:
    """Inverse of ``packed``, with each row's "now" the very same verdict as its "then"."""
    document = json.loads(text)
    entries = []
    for entry_id, listed, shown, current, justified, reasons, version, items in document["rows"]:
        then = {
            "listed": shown,
            "current": current,
            "justified": justified,
            "reasons": reasons,
            "version": version,
            "evidence": [
                {
                    "fact": fact,
                    "stream": entry_id,
                    "version": number,
                    "position": position,
                    "actor": actor,
                    "type": kind,
                    "effective_at": effective,
                    "recorded_at": effective if recorded is None else recorded,
                }
                for fact, number, position, actor, kind, effective, recorded in items
            ],
        }
        entries.append(
            {
                "entry_id": entry_id,
                "on_watchlist": listed,
                "then": then,
                "now": then,
                "class": classify(listed, justified, justified),
                "learned_at": None,
                "learned_by": None,
                "learned_position": None,
                "lag_seconds": None,
            }
        )
    return {"entries": entries, "authorised_by": document["authorised_by"]}


def judge_then(tx: Tx, listed: list[str], excluded: list[str], on: Basis) -> dict[str, Any]:
    """The reconstruction's rows as known on ``on``, and who had authorised each entry.

    Each row is the one a reconstruction reports for an entry nothing was learned about since:
    its "now" verdict is its "then" verdict (filled in when read back).
    """
    considered = listed + excluded
    found = views(tx, considered, on)
    on_list = set(listed)
    rows = []
    for entry_id in considered:
        then = verdict(found[entry_id])
        rows.append(row(entry_id, entry_id in on_list, then, then))
    authorisers = {
        e: v.state.authorised_by for e, v in found.items() if v.state.authorised_by is not None
    }
    return {"entries": rows, "authorised_by": authorisers}


def row(entry_id: str, listed: bool, then: dict[str, Any], now: dict[str, Any]) -> dict[str, Any]:
    """One entry's row: both verdicts and its class (when a difference was learned: unknown yet)."""
    return {
        "entry_id": entry_id,
        "on_watchlist": listed,
        "then": then,
        "now": now,
        "class": classify(listed, then["justified"], now["justified"]),
        "learned_at": None,
        "learned_by": None,
        "learned_position": None,
        "lag_seconds": None,
    }


def classify(listed: bool, then: bool, now: bool) -> str:
    """The reconstruction class of one entry."""
    if then and not now:
        return INVALIDATED
    if now and not then:
        return VALIDATED
    if listed and not then:
        return UNJUSTIFIED_THEN
    return CONSISTENT


def stored_then(tx: Tx, deployment_id: str, on: Basis) -> dict[str, Any] | None:
    """The stored rows of a deployment as known on ``on``, if the projection holds them.

    Each row's "now" is its "then" (the same object), until a reconstruction judges it again.
    """
    found = tx.one(
        "SELECT views FROM {t}wl_then_views WHERE deployment_id = ? AND at = ? AND basis = ?",
        (deployment_id, to_micros(on.at), on.known_at),
    )
    return None if found is None else unpacked(found[0])
