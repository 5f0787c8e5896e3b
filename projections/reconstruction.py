"""Reconstructing a past deployment: each person on its watchlist, as known then and as known now.

"Then" is the store as it stood at the deployment's compile basis; "now" is the store today. Both
are judged at the deployment's go-live instant with the policy in force then, by the same rule as
the compile gate. The two views are kept side by side and never merged; where they differ, the
report says when the difference was learned, from whose record, and how late.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from governance.application import WatchlistApp
from governance.domain.deployment import describe
from governance.domain.judging import Basis
from governance.errors import RuleViolation
from governance.times import format_instant, format_micros
from projections.deployments import (
    CONSISTENT,
    INVALIDATED,
    UNJUSTIFIED_THEN,
    VALIDATED,
    judge_then,
    row,
    stored_then,
)
from projections.judging import basis, knowledge_points, rejudged, verdict, views
from projections.queries import current_position
from projections.runner import projection_store
from projections.storage import Tx


@dataclass(frozen=True)
class Reconstruction:
    """The whole answer for one deployment."""

    deployment: dict[str, Any]
    then: Basis
    now: Basis
    manifest_matches: bool
    manifest_problems: list[str]
    entries: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON document."""
        return {
            "deployment": self.deployment,
            "at": format_instant(self.then.at),
            "then_basis": self.then.known_at,
            "now_basis": self.now.known_at,
            "then_policy_version": self.then.policy_version,
            "now_policy_version": self.now.policy_version,
            "manifest_matches": self.manifest_matches,
            "manifest_problems": self.manifest_problems,
            "summary": summary(self.entries),
            "entries": self.entries,
        }


def reconstruct(app: WatchlistApp, deployment_id: UUID) -> Reconstruction:
    """Judge every entry the deployment's gate considered, as known then and now."""
    with cycle_collection_paused():
        return _reconstruct(app, deployment_id)


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a report is built.

    A 10,000-entry report allocates hundreds of thousands of small dicts and lists, none of them in
    reference cycles (reference counting frees them all), yet each batch of allocations would make
    the collector rescan everything the process holds; in a long-lived process that costs more than
    building the report.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _reconstruct(app: WatchlistApp, deployment_id: UUID) -> Reconstruction:
    deployment = app.deployments.get(deployment_id)
    if deployment.compilation is None:
        raise RuleViolation(
            "deployment: it was never compiled, so there is no watchlist to reconstruct"
        )
    compiled = deployment.compilation
    manifest = {m["entry_id"]: int(m["version"]) for m in compiled["manifest"]}
    excluded = [x["entry_id"] for x in compiled["excluded"]]
    considered = list(manifest) + excluded
    now_position = current_position(app)
    with projection_store(app).reading() as tx:
        then = basis(tx, deployment.go_live, int(compiled["basis"]), deployment.categories)
        now = basis(tx, deployment.go_live, now_position, deployment.categories)
        frozen = stored_then(tx, str(deployment_id), then)
        if frozen is None or [e["entry_id"] for e in frozen["entries"]] != considered:
            frozen = judge_then(tx, list(manifest), excluded, then)  # not stored (or not these)
        entries: list[dict[str, Any]] = frozen["entries"]
        again = rejudged(tx, considered, frozen["authorised_by"], then, now)
        for entry in entries:
            view = again.get(entry["entry_id"])
            if view is not None:
                learned_since(tx, entry, verdict(view), then, now)
    problems = manifest_problems(manifest, entries)
    return Reconstruction(describe(deployment), then, now, not problems, problems, entries)


def learned_since(
    tx: Tx, entry: dict[str, Any], now: dict[str, Any], then_on: Basis, now_on: Basis
) -> None:
    """Give an entry's row its verdict as known now, its class, and when a difference was learned."""
    then = entry["then"]
    entry.update(row(entry["entry_id"], entry["on_watchlist"], then, now))
    if then["justified"] != now["justified"] or then["reasons"] != now["reasons"]:
        learned = when_learned(tx, entry["entry_id"], then_on, now_on, now["justified"])
        if learned is not None:
            entry.update(learned)


def when_learned(
    tx: Tx, entry_id: str, then: Basis, now: Basis, justified_now: bool
) -> dict[str, Any] | None:
    """The first record after the basis from which the entry's verdict read as it does now."""
    for position in knowledge_points(tx, entry_id, then.known_at, now.known_at):
        view = views(
            tx, [entry_id], Basis(then.at, position, now.policy_version, now.policy, now.permitted)
        )[entry_id]
        if view.assessment.justified == justified_now:
            fact = tx.one(
                "SELECT actor, recorded_at, effective_at FROM {t}wl_entry_facts WHERE entry_id = ? AND position = ?",
                (entry_id, position),
            )
            assert fact is not None
            recorded, effective = int(fact[1]), int(fact[2])
            return {
                "learned_at": format_micros(recorded),
                "learned_by": fact[0],
                "learned_position": position,
                "lag_seconds": (recorded - effective) // 1_000_000,
            }
    return None


def manifest_problems(manifest: dict[str, int], entries: list[dict[str, Any]]) -> list[str]:
    """Differences between the compiled manifest and the 'then' verdicts (each is a defect)."""
    problems = []
    for entry in entries:
        entry_id, held = entry["entry_id"], entry["then"]
        on_manifest = entry_id in manifest
        if on_manifest and not held["justified"]:
            problems.append(
                f"{entry_id}: on the manifest but not justified as known then ({', '.join(held['reasons'])})"
            )
        if not on_manifest and held["justified"]:
            problems.append(f"{entry_id}: justified as known then but left off the manifest")
        if on_manifest and held["version"] != manifest[entry_id]:
            problems.append(
                f"{entry_id}: manifest names version {manifest[entry_id]} but the store then held {held['version']}"
            )
    return problems


def summary(entries: list[dict[str, Any]]) -> dict[str, int]:
    """Counts by class."""
    counts = {CONSISTENT: 0, INVALIDATED: 0, VALIDATED: 0, UNJUSTIFIED_THEN: 0}
    for entry in entries:
        counts[entry["class"]] += 1
    return counts
