"""``watchlist demo``: build a small store from scratch and walk through the lifecycle in plain words.

The demo signs with in-memory keys (no key files are written) and simulates the passage of days with
the frozen clock, so it runs in seconds and always tells the same story.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from commands.errors import report
from commands.render import stdout
from governance import clock, keys
from governance.application import WatchlistApp
from governance.audit import verify_store
from governance.entry_input import parse_proposal
from governance.errors import GovernanceError
from governance.sealing import MasterKey
from governance.settings import StoreSettings
from governance.signing import Signer
from governance.times import format_instant
from governance.vocabulary import Rank, RemovalReason, ReviewOutcome, Role, SourceStatus


def demo(
    home: Annotated[
        Path | None,
        typer.Option("--home", help="Build the demo store here (default: a temporary directory)."),
    ] = None,
) -> None:
    """Build a demo store and show officers, entries, refusals, a review, a removal and verification."""
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
        entry_id = self.propose_and_authorise()
        self.review_and_remove(entry_id)
        self.verify()

    def set_up_officers(self) -> None:
        app = self.app
        say(
            "[bold]1. A store is founded[/] by administrator ADMIN-01, who signs its founding record."
        )
        app.found(
            "demo.police.example/watchlist",
            "Alex Admin",
            Rank.INSPECTOR,
            self.admin,
            keys.public_b64(keys.generate().public_key()),
        )
        say("[bold]2. Officers are enrolled[/], each with their own Ed25519 key:")
        for signer, name, rank, role in (
            (self.custodian, "Casey Custodian", Rank.CONSTABLE, Role.CUSTODIAN),
            (self.authoriser, "Sam Superintendent", Rank.SUPERINTENDENT, Role.AUTHORISER),
            (self.dual, "Dana Dual", Rank.SUPERINTENDENT, Role.CUSTODIAN),
            (self.reviewer, "Robin Reviewer", Rank.INSPECTOR, Role.REVIEWER),
        ):
            roles = frozenset({role, Role.AUTHORISER}) if signer is self.dual else frozenset({role})
            app.enrol(self.admin, signer.officer_id, name, rank, roles, signer.public_key)
            listed = ", ".join(sorted(roles))
            say(f"   {signer.officer_id}: {rank.value}, {listed}, key {signer.key_id}")

    def propose_and_authorise(self) -> UUID:
        app, now = self.app, clock.now()
        proposal = parse_proposal(demo_entry(now))
        say(
            "[bold]3. A custodian proposes an entry[/] (wanted on warrant). The name, date of birth and"
        )
        say("   nominal reference are sealed with a per-subject key before they enter the event.")
        entry = app.propose(self.custodian, proposal)
        say(f"   entry {entry.id} is {entry.status.value}: not on any watchlist yet.")
        say(
            "[bold]4. SUPT-2002, custodian and authoriser, proposes a second entry[/bold] and tries"
        )
        say("   to authorise it personally; separation of duties refuses it:")
        second = app.propose(self.dual, proposal)
        try:
            app.authorise(self.dual, second.id, "I proposed it and I approve it myself.")
        except GovernanceError as error:
            report(error)
        say(f"   entry {second.id} stays {second.status.value}.")
        self.time.advance(timedelta(hours=2))
        entry = app.authorise(
            self.authoriser, entry.id, "Necessary and proportionate for Operation Example."
        )
        say(
            f"[bold]5. Superintendent SUPT-2001 authorises it[/]: the entry is now {entry.status.value}."
        )
        entry = app.verify_source(
            self.custodian, entry.id, SourceStatus.LIVE, None, "Warrant checked on PNC"
        )
        say(f"   The custodian records the warrant as live at {format_instant(clock.now())}.")
        return entry.id

    def review_and_remove(self, entry_id: UUID) -> None:
        app = self.app
        self.time.advance(timedelta(days=30))
        entry = app.review(
            self.reviewer, entry_id, ReviewOutcome.RETAIN, "Still wanted; warrant live.", None, None
        )
        say(
            f"[bold]6. Thirty days later a reviewer retains it[/]; next review due {format_instant(entry.review_by)}."
        )
        self.time.advance(timedelta(days=3))
        entry = app.remove(
            self.custodian,
            entry_id,
            RemovalReason.WARRANT_EXECUTED_OR_WITHDRAWN,
            None,
            "Arrested on warrant",
        )
        say(
            f"[bold]7. The warrant is executed[/]: the custodian removes the entry ({entry.state.removal_reason})."
        )
        say("   History of the entry, every event signed by the officer who made it:")
        for item in app.history(entry_id):
            record, envelope = item.checked.record, item.checked.envelope
            assert envelope is not None
            kind = record.stored.topic.rpartition(".")[2]
            verdict = "valid" if item.checked.valid else "INVALID"
            say(
                f"   v{record.stored.originator_version} {kind:<15} by {envelope.actor:<10} "
                f"at position {record.position}: signature {verdict}"
            )

    def verify(self) -> None:
        result = verify_store(self.app)
        verdict = "every signature, key and hash chain checks out" if result.ok else "FAILED"
        say(f"[bold]8. audit verify[/]: {result.events} events, {verdict}.")


def demo_entry(now: datetime) -> str:
    """The demo's ENTRY.json."""
    review_by = format_instant(now + timedelta(days=60))
    expires_at = format_instant(now + timedelta(days=180))
    return f"""{{
  "subject": {{"name": "Jane Example", "date_of_birth": "1990-04-01", "subject_ref": "NOMINAL-000123"}},
  "category": "wanted_on_warrant",
  "source_record_ref": "WARRANT-2026-0042",
  "offence_ref": null,
  "objective": "Locate persons wanted on warrant for violent offences, Operation Example",
  "rationale": "Necessity and proportionality: wanted for a serious assault; recent custody image.",
  "image": {{"legal_basis": "custody image, PACE s.64A", "source": "custody", "captured_on": "2026-01-15"}},
  "vulnerable": false,
  "safeguarding_rationale": null,
  "review_by": "{review_by}",
  "expires_at": "{expires_at}"
}}"""
