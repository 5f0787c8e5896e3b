"""``watchlist demo``: build a small store from scratch and walk through it in plain words.

The story: officers are enrolled; two people wanted on warrant are proposed and authorised (and a
proposer who tries to authorise their own entry is refused); a reviewer retains one; a deployment is
authorised, compiled through the gate and started; a week later the custodian learns that one
warrant had been executed two days before the deployment and records it late; the reconstruction
shows that inclusion as RETROACTIVELY_INVALIDATED; and the whole record verifies. The demo signs
with in-memory keys (no key files are written) and moves a frozen clock to simulate the days.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from commands.errors import report
from commands.render import stdout
from governance import clock
from governance.application import WatchlistApp
from governance.domain.deployment import UseCase
from governance.domain.proposal import parse_proposal
from governance.domain.vocabulary import (
    Category,
    Rank,
    RemovalReason,
    ReviewOutcome,
    Role,
    SourceStatus,
)
from governance.errors import GovernanceError
from governance.integrity import keys
from governance.integrity.sealing import MasterKey
from governance.integrity.signing import Signer
from governance.services.store_audit import verify_store
from governance.storage.settings import StoreSettings
from governance.times import format_instant
from projections.queries import candidates
from projections.reconstruction import reconstruct


def demo(
    home: Annotated[
        Path | None,
        typer.Option("--home", help="Build the demo store here (default: a temporary directory)."),
    ] = None,
) -> None:
    """Build a demo store: officers, entries, a refusal, a review, a deployment, a late removal."""
    target = home or Path(tempfile.mkdtemp(prefix="watchlist-demo-"))
    settings = StoreSettings(target.resolve())
    if settings.sqlite_path.exists():
        raise typer.BadParameter(
            f"{target} already holds a store; choose an empty directory", param_hint="--home"
        )
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    MasterKey.create(settings.master_key_path)
    with clock.frozen(clock.now()) as time, WatchlistApp(settings) as app:
        Walkthrough(app, time).run()
    say(f"\nThe demo store is at {settings.home} (SQLite, embedded).")


def say(text: str) -> None:
    """One line of the story."""
    stdout.print(text)


class Walkthrough:
    """The demo story, step by step."""

    def __init__(self, app: WatchlistApp, time: clock.FrozenClock) -> None:
        self.app, self.time = app, time
        self.admin = Signer("ADMIN-01", keys.generate())
        self.custodian = Signer("PC-1001", keys.generate())
        self.authoriser = Signer("SUPT-2001", keys.generate())
        self.reviewer = Signer("INSP-3001", keys.generate())
        self.dual = Signer("SUPT-2002", keys.generate())

    def run(self) -> None:
        self.set_up_officers()
        jane, john = self.propose_and_authorise()
        deployment = self.deploy(jane, john)
        self.learn_late(john, deployment)
        self.reconstruct(deployment)
        self.verify()

    def set_up_officers(self) -> None:
        app = self.app
        say(
            "[bold]1. A store is founded[/] by administrator ADMIN-01, who signs its founding record."
        )
        app.officers.found("demo.police.example/watchlist", "Alex Admin", Rank.INSPECTOR, self.admin,
                  keys.public_b64(keys.generate().public_key()))  # fmt: skip
        say("[bold]2. Officers are enrolled[/], each with their own Ed25519 key:")
        for signer, name, rank, roles in (
            (self.custodian, "Casey Custodian", Rank.CONSTABLE, {Role.CUSTODIAN}),
            (self.authoriser, "Sam Superintendent", Rank.SUPERINTENDENT, {Role.AUTHORISER}),
            (self.dual, "Dana Dual", Rank.SUPERINTENDENT, {Role.CUSTODIAN, Role.AUTHORISER}),
            (self.reviewer, "Robin Reviewer", Rank.INSPECTOR, {Role.REVIEWER}),
        ):
            app.officers.enrol(
                self.admin, signer.officer_id, name, rank, frozenset(roles), signer.public_key
            )
            say(
                f"   {signer.officer_id}: {rank.value}, {', '.join(sorted(roles))}, key {signer.key_id}"
            )

    def propose_and_authorise(self) -> tuple[UUID, UUID]:
        app, now = self.app, clock.now()
        say(
            "[bold]3. A custodian proposes two people wanted on warrant.[/] Names, dates of birth and"
        )
        say("   nominal references are sealed with a per-subject key before they enter any event.")
        jane = app.entries.propose(
            self.custodian, parse_proposal(demo_entry(now, "Jane Example", "NOMINAL-000123"))
        )
        john = app.entries.propose(
            self.custodian, parse_proposal(demo_entry(now, "John Sample", "NOMINAL-000456"))
        )
        say(
            f"   entries {short(jane.id)} and {short(john.id)} are {jane.status.value}: on no watchlist yet."
        )
        say("[bold]4. SUPT-2002, custodian and authoriser, proposes a third entry[/] and tries to")
        say("   authorise it personally; separation of duties refuses it:")
        own = app.entries.propose(self.dual, parse_proposal(demo_entry(now, "Jo Bloggs", "NOMINAL-000789")))
        try:
            app.entries.authorise(self.dual, own.id, "I proposed it and I approve it myself.")
        except GovernanceError as error:
            report(error)
        self.time.advance(timedelta(hours=2))
        for entry in (jane, john):
            app.entries.authorise(
                self.authoriser, entry.id, "Necessary and proportionate for Operation Example."
            )
        say("[bold]5. Superintendent SUPT-2001 authorises both[/]: they are now active.")
        self.time.advance(timedelta(days=30))
        reviewed = app.entries.review(
            self.reviewer, jane.id, ReviewOutcome.RETAIN, "Still wanted; warrant live.", None, None
        )
        say(f"[bold]6. Thirty days later a reviewer retains {short(jane.id)}[/]; next review due "
            f"{format_instant(reviewed.review_by)}.")  # fmt: skip
        return jane.id, john.id

    def deploy(self, jane: UUID, john: UUID) -> UUID:
        app = self.app
        start = clock.now() + timedelta(hours=20)
        deployment = app.deployments.authorise(
            self.authoriser, "Oxford Circus, London", "Transport hub where the people sought are known to travel",
            "Locate persons wanted on warrant, Operation Example", UseCase.HOTSPOT,
            [Category.WANTED_ON_WARRANT], start, start + timedelta(hours=8),
        )  # fmt: skip
        say(
            f"[bold]7. SUPT-2001 authorises a deployment[/] at {deployment.location}, starting {format_instant(start)}."
        )
        self.time.advance(timedelta(hours=12))
        for entry in (jane, john):
            app.entries.verify_source(
                self.custodian, entry, SourceStatus.LIVE, None, "Warrant checked on PNC"
            )
        say("   The custodian checks both warrants are still live, eight hours before go-live.")
        pool = [UUID(e) for e in candidates(app, clock.now() - timedelta(days=2))]
        compiled = app.deployments.compile(self.custodian, deployment.id, pool)
        assert compiled.compilation is not None
        manifest, excluded = compiled.compilation["manifest"], compiled.compilation["excluded"]
        counts = f"{len(manifest)} included, {len(excluded)} excluded"
        say(f"[bold]8. The watchlist is compiled through the gate[/]: {counts}:")
        for item in excluded:
            say(f"   excluded {short(item['entry_id'])}: {', '.join(item['reasons'])}")
        self.time.advance(timedelta(hours=8))
        started = app.deployments.start(self.authoriser, deployment.id)
        assert started.started_at is not None
        say(f"   The deployment goes live at {format_instant(started.started_at)}.")
        return deployment.id

    def learn_late(self, john: UUID, deployment_id: UUID) -> None:
        app = self.app
        go_live = app.deployments.get(deployment_id).go_live
        self.time.advance(timedelta(days=7))
        app.entries.remove(
            self.custodian,
            john,
            RemovalReason.WARRANT_EXECUTED_OR_WITHDRAWN,
            go_live - timedelta(days=2),
            "Arrested by a neighbouring force",
            "Arrest reported a week late by the neighbouring force",
            "CUSTODY-2026-7781",
        )
        say(
            f"[bold]9. A week later[/] the custodian learns that {short(john)}'s warrant was executed two days"
        )
        say("   before the deployment, and records the removal with that earlier effective time.")

    def reconstruct(self, deployment_id: UUID) -> None:
        result = reconstruct(self.app, deployment_id)
        say(
            "[bold]10. The legal team reconstructs the deployment[/], as known then and as known now:"
        )
        for row in result.entries:
            then = "justified" if row["then"]["justified"] else "NOT justified"
            now = (
                "justified"
                if row["now"]["justified"]
                else f"NOT justified ({', '.join(row['now']['reasons'])})"
            )
            say(f"   {short(row['entry_id'])}: then {then}; now {now}: [bold]{row['class']}[/]")
            if row["learned_at"]:
                say(f"      learned at {row['learned_at']} from {row['learned_by']}'s record, "
                    f"{row['lag_seconds'] // 86400} days after the fact")  # fmt: skip
        matches = "matches" if result.manifest_matches else "DOES NOT match"
        say(f"   The compiled manifest {matches} the record as known then.")
        say(
            "   (JSON: 'watchlist deployment reconstruct ID'; a printable report: '--format html'.)"
        )
        summary = json.dumps(result.to_json()["summary"])
        say(f"   Summary: {summary}")

    def verify(self) -> None:
        result = verify_store(self.app)
        verdict = (
            "every signature, key, hash chain and Merkle leaf checks out" if result.ok else "FAILED"
        )
        say(f"[bold]11. audit verify[/]: {result.events} events, {verdict}.")


def short(entry_id: object) -> str:
    """The first block of an id, for readable lines."""
    return str(entry_id).split("-")[0]


def demo_entry(now: datetime, name: str, ref: str) -> str:
    """A demo ENTRY.json."""
    document = {
        "subject": {"name": name, "date_of_birth": "1990-04-01", "subject_ref": ref},
        "category": "wanted_on_warrant",
        "source_record_ref": f"WARRANT-2026-{ref[-4:]}",
        "offence_ref": None,
        "objective": "Locate persons wanted on warrant for violent offences, Operation Example",
        "rationale": "Necessity and proportionality: wanted for a serious assault; recent custody image.",
        "image": {
            "legal_basis": "custody image, PACE s.64A",
            "source": "custody",
            "captured_on": "2026-01-15",
        },
        "vulnerable": False,
        "safeguarding_rationale": None,
        "review_by": format_instant(now + timedelta(days=60)),
        "expires_at": format_instant(now + timedelta(days=180)),
    }
    return json.dumps(document)
