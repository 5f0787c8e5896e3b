"""The story ``watchlist demo`` tells, step by step, on a store it builds from scratch.

Officers are enrolled; two people wanted on warrant are proposed and authorised (and a proposer who
tries to authorise their own entry is refused); a reviewer retains one; a deployment is authorised,
compiled through the gate and started; a week later the custodian learns that one warrant had been
executed two days before the deployment and records it late; the reconstruction shows that
inclusion as RETROACTIVELY_INVALIDATED; and the whole record verifies. A frozen clock, started by
the caller, moves forward to simulate the days.

Every officer (a legal officer among them) and the log get key files in the home, encrypted with
``DEMO_PASSPHRASE``, so the store can be explored afterwards. Entries are named "entry A",
"entry B"... with their full ids on first mention: ids are UUIDv7, so ids made in the same minute
share their first block, and no prefix of one is safe to show.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from uuid import UUID

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
from governance.integrity.signing import Signer
from governance.services.reconstruction import reconstruct_deployment
from governance.services.store_audit import verify_store
from governance.storage.settings import StoreSettings
from governance.times import format_instant
from projections.queries import candidates

# A fixed, printed demo value (also in the home's DEMO.md), so a newcomer can sign as any officer.
DEMO_PASSPHRASE = "demo-passphrase"  # noqa: S105


def say(text: str) -> None:
    """One line of the story."""
    stdout.print(text)


class Walkthrough:
    """The demo story, step by step."""

    def __init__(self, app: WatchlistApp, time: clock.FrozenClock, settings: StoreSettings) -> None:
        self.app, self.time, self.settings = app, time, settings
        self.admin = self.officer("ADMIN-01")
        self.custodian = self.officer("PC-1001")
        self.authoriser = self.officer("SUPT-2001")
        self.reviewer = self.officer("INSP-3001")
        self.dual = self.officer("SUPT-2002")
        self.legal = self.officer("LEGAL-4001")
        self.labels: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    def officer(self, officer_id: str) -> Signer:
        """A new key pair for ``officer_id``, its key file written under the demo passphrase."""
        key = keys.generate()
        keys.write_private_key(self.settings.officer_key_path(officer_id), key, DEMO_PASSPHRASE)
        return Signer(officer_id, key)

    def entry(self, entry_id: object) -> str:
        """The entry's label (entry A, B...), with its full id the first time it is named."""
        if str(entry_id) in self.labels:
            return self.labels[str(entry_id)]
        label = f"entry {chr(ord('A') + len(self.labels))}"
        self.labels[str(entry_id)], self.ids[label] = label, str(entry_id)
        return f"{label} ({entry_id})"

    def run(self) -> None:
        self.set_up_officers()
        jane, john = self.propose_and_authorise()
        self.deployment = self.deploy(jane, john)
        self.learn_late(john, self.deployment)
        self.reconstruct(self.deployment)
        self.verify()

    def set_up_officers(self) -> None:
        app = self.app
        say(
            "[bold]1. A store is founded[/] by administrator ADMIN-01, who signs its founding record."
        )
        log_key = keys.generate()
        keys.write_private_key(self.settings.log_key_path, log_key, DEMO_PASSPHRASE)
        app.officers.found("demo.police.example/watchlist", "Alex Admin", Rank.INSPECTOR, self.admin,
                  keys.public_b64(log_key.public_key()))  # fmt: skip
        say("[bold]2. Officers are enrolled[/], each with their own Ed25519 key:")
        for signer, name, rank, roles in (
            (self.custodian, "Casey Custodian", Rank.CONSTABLE, {Role.CUSTODIAN}),
            (self.authoriser, "Sam Superintendent", Rank.SUPERINTENDENT, {Role.AUTHORISER}),
            (self.dual, "Dana Dual", Rank.SUPERINTENDENT, {Role.CUSTODIAN, Role.AUTHORISER}),
            (self.reviewer, "Robin Reviewer", Rank.INSPECTOR, {Role.REVIEWER}),
            (self.legal, "Lee Legal", Rank.INSPECTOR, {Role.LEGAL}),
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
            f"   {self.entry(jane.id)} and {self.entry(john.id)} are {jane.status.value}: on no watchlist yet."
        )
        say("[bold]4. SUPT-2002, custodian and authoriser, proposes a third entry[/] and tries to")
        say("   authorise it personally; separation of duties refuses it:")
        own = app.entries.propose(
            self.dual, parse_proposal(demo_entry(now, "Jo Bloggs", "NOMINAL-000789"))
        )
        say(f"   {self.entry(own.id)}:")
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
        say(f"[bold]6. Thirty days later a reviewer retains {self.entry(jane.id)}[/]; next review due "
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
        say(f"   Its id is {deployment.id}.")
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
            say(f"   excluded {self.entry(item['entry_id'])}: {', '.join(item['reasons'])}")
        self.time.advance(timedelta(hours=8))
        started = app.deployments.start(self.authoriser, deployment.id)
        assert started.started_at is not None
        say(f"   The deployment goes live at {format_instant(started.started_at)}.")
        return deployment.id

    def learn_late(self, john: UUID, deployment_id: UUID) -> None:
        app = self.app
        go_live = self.go_live = app.deployments.get(deployment_id).go_live
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
            f"[bold]9. A week later[/] the custodian learns that {self.entry(john)}'s warrant was executed two days"
        )
        say("   before the deployment, and records the removal with that earlier effective time.")

    def reconstruct(self, deployment_id: UUID) -> None:
        result = reconstruct_deployment(self.app, self.legal, deployment_id)
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
            say(
                f"   {self.entry(row['entry_id'])}: then {then}; now {now}: [bold]{row['class']}[/]"
            )
            if row["learned_at"]:
                say(f"      learned at {row['learned_at']} from {row['learned_by']}'s record, "
                    f"{row['lag_seconds'] // 86400} days after the fact")  # fmt: skip
        matches = "matches" if result.manifest_matches else "DOES NOT match"
        say(f"   The compiled manifest {matches} the record as known then.")
        summary = json.dumps(result.to_json()["summary"])
        say(f"   Summary: {summary}")

    def verify(self) -> None:
        result = verify_store(self.app)
        verdict = (
            "every signature, key, hash chain and Merkle leaf checks out" if result.ok else "FAILED"
        )
        say(f"[bold]11. audit verify[/]: {result.events} events, {verdict}.")


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
