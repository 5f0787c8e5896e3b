"""Reconstructing a past deployment for the legal team: the permission check, the read side, and the
check of every row it gives against the signed record.

The rows are built by ``projections.reconstruction`` from the projection (an index: the stored
"then" views, the entries changed since). None of it is taken on trust: the policy versions must
be the signed ones in force, every cited event is read back and verified (signature, hash chain,
position) and must say what the row cites, each "then" verdict must be the signed compile's (or,
for a deployment that went live at another instant, the one judge's over the verified events), and
each entry with a verified event after the basis is judged again from its verified events. A row
that disagrees is an integrity failure naming the table and the row; it never changes an answer.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from governance.application import WatchlistApp
from governance.domain.judging import Basis, cite, judge
from governance.domain.permissions import Action
from governance.errors import Failure, IntegrityFailure
from governance.integrity.signing import Signer
from governance.services.projection_check import disagrees
from governance.services.stored_history import StoredHistory
from projections.judging import verdict
from projections.reconstruction import Reconstruction, reconstruct


def reconstruct_deployment(
    app: WatchlistApp, signer: Signer, deployment_id: UUID
) -> Reconstruction:
    """Every entry the deployment's gate judged, as known then and now (legal, fresh standing)."""
    app.authenticate(signer, Action.RECONSTRUCT_DEPLOYMENT, fresh=True)
    return checked_reconstruction(app, deployment_id)


def checked_reconstruction(app: WatchlistApp, deployment_id: UUID) -> Reconstruction:
    """The reconstruction, every row of it checked against the verified events it cites."""
    result = reconstruct(app, deployment_id)
    deployment = app.deployments.get(deployment_id)
    compiled = deployment.compilation
    assert compiled is not None  # ``reconstruct`` refused a deployment never compiled
    table = f"(deployment_id={deployment_id})"
    failures = [
        *signed_basis(app, result.then, "then"),
        *signed_basis(app, result.now, "now"),
    ]
    if failures:
        raise IntegrityFailure(failures)
    history = StoredHistory(app)
    at_compile = {m["entry_id"]: int(m["version"]) for m in compiled["manifest"]}
    reasons = {x["entry_id"]: list(x["reasons"]) for x in compiled["excluded"]}
    as_compiled = deployment.go_live == compiled["judged_at"]
    changed: list[str] = []
    for entry in result.entries:
        entry_id = entry["entry_id"]
        known = history.known(entry_id, result.now.known_at)
        where = f"{table} entry {entry_id}"
        for view in ("then", "now"):
            for item in entry[view]["evidence"]:
                place = known.places.get(int(item["version"]))
                if place is None or item != cite(
                    {}, item["fact"], entry_id, item["version"], place
                ):
                    failures.append(disagrees("wl_then_views", f"{where} evidence", entry_id))
        then = entry["then"]
        if as_compiled and not signed_verdict(
            then, at_compile.get(entry_id), reasons.get(entry_id)
        ):
            failures.append(disagrees("wl_then_views", f"{where} verdict", entry_id))
        if any(p.position > result.then.known_at for p in known.places.values()):
            changed.append(entry_id)
    if not as_compiled:
        failures += rejudged(history, result, [e["entry_id"] for e in result.entries], "then")
    changed += late_revocations(history, result)
    failures += rejudged(history, result, sorted(set(changed)), "now")
    unchanged = set(e["entry_id"] for e in result.entries) - set(changed)
    for entry in result.entries:
        if entry["entry_id"] in unchanged and entry["now"] != entry["then"]:
            failures.append(
                disagrees("wl_entries", f"(entry_id={entry['entry_id']})", entry["entry_id"])
            )
    if failures:
        raise IntegrityFailure(failures)
    return result


def signed_basis(app: WatchlistApp, on: Basis, view: str) -> list[Failure]:
    """The policy version the projection found in force must be the signed one."""
    in_force = app.policies.at(on.at, on.known_at)
    if (in_force.version, in_force.document) == (on.policy_version, on.policy):
        return []
    return [disagrees("wl_policies", f"version {on.policy_version} (in force {view})")]


def signed_verdict(then: dict[str, Any], version: int | None, reasons: list[str] | None) -> bool:
    """A 'then' verdict the signed compile bears out (judged at the same instant and basis)."""
    if version is not None:
        return bool(then["justified"]) and int(then["version"]) == version
    if reasons is not None:
        return not then["justified"] and list(then["reasons"]) == reasons
    return False


def rejudged(
    history: StoredHistory, result: Reconstruction, entry_ids: list[str], view: str
) -> list[Failure]:
    """The rows' ``view`` verdicts of these entries against the one judge over verified events."""
    if not entry_ids:
        return []
    on = result.then if view == "then" else result.now
    found = judge(history, entry_ids, on)
    rows = {e["entry_id"]: e for e in result.entries}
    table = "wl_then_views" if view == "then" else "wl_entry_intervals"
    return [
        disagrees(table, f"(entry_id={entry_id}) as known {view}", entry_id)
        for entry_id in entry_ids
        if rows[entry_id][view] != verdict(found[entry_id])
    ]


def late_revocations(history: StoredHistory, result: Reconstruction) -> list[str]:
    """Entries whose authoriser's revocation by go-live was recorded after the basis."""
    by: dict[str, list[str]] = {}
    for entry in result.entries:
        for item in entry["then"]["evidence"]:
            if item["fact"] == "authorised":
                by.setdefault(item["actor"], []).append(entry["entry_id"])
    officers = sorted(by)
    late = set(history.revoked(officers, result.now.at, result.now.known_at)) - set(
        history.revoked(officers, result.then.at, result.then.known_at)
    )
    return [e for officer in late for e in by[officer]]
