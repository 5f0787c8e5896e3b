"""``watchlist demo``: build a small store from scratch and walk through it in plain words.

The story: officers are enrolled; two people wanted on warrant are proposed and authorised (and a
proposer who tries to authorise their own entry is refused); a reviewer retains one; a deployment is
authorised, compiled through the gate and started; a week later the custodian learns that one
warrant had been executed two days before the deployment and records it late; the reconstruction
shows that inclusion as RETROACTIVELY_INVALIDATED; and the whole record verifies. The demo signs
with a frozen clock that starts 38 days ago and moves forward to simulate the days, so the story
ends just before the real now and later commands carry on from there.

The store is left for a newcomer to explore: every demo officer, a legal officer among them, and
the log have key files in the home, encrypted with the fixed demo passphrase ``DEMO_PASSPHRASE``
(printed, and written in the home's DEMO.md: a demo value, never a secret); the demo prints the
deployment id and the next commands to try. The store goes to ``--home`` (after the command or
before it), else ``WATCHLIST_HOME``, else ``./.demo``; nothing goes to the temporary directory.
Entries are named "entry A", "entry B"... with their full ids on first mention: ids are UUIDv7, so
ids made in the same minute share their first block, and no prefix is safe to show.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from commands.errors import report
from commands.render import stdout
from commands.session import session_of
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
from governance.errors import Conflict, GovernanceError
from governance.integrity import keys
from governance.integrity.sealing import MasterKey
from governance.integrity.signing import Signer
from governance.services.store_audit import verify_store
from governance.storage.settings import StoreSettings
from governance.times import format_instant
from projections.queries import candidates
from projections.reconstruction import reconstruct

# A fixed, printed demo value (also in the home's DEMO.md), so a newcomer can sign as any officer.
DEMO_PASSPHRASE = "demo-passphrase"  # noqa: S105
DEFAULT_HOME = Path(".demo")
MARKER = "DEMO.md"
STORY = timedelta(days=38)  # the story's clock moves 37 days and 22 hours


def demo(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home", help="Build the demo store here (default: WATCHLIST_HOME, else ./.demo)."
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help=f"Delete and rebuild an earlier demo store (one with {MARKER})."
        ),
    ] = False,
) -> None:
    """Build a demo store: officers, entries, a refusal, a review, a deployment, a late removal."""
    chosen = home or session_of(ctx).home or os.environ.get("WATCHLIST_HOME") or DEFAULT_HOME
    settings = StoreSettings(Path(chosen).expanduser().resolve())
    make_empty_home(settings.home, replace)
    MasterKey.create(settings.master_key_path)
    (settings.home / MARKER).write_text(
        "# A demo store\n\nBuilt by `watchlist demo`. Every key file here is encrypted with the demo "
        f"passphrase `{DEMO_PASSPHRASE}`, which is not a secret: keep real data out of this store.\n"
        "`watchlist demo --replace` deletes this folder and builds a new demo store.\n"
    )
    with clock.frozen(clock.now() - STORY) as time, WatchlistApp(settings) as app:
        walk = Walkthrough(app, time, settings)
        walk.run()
    walk.next_steps()


def make_empty_home(home: Path, replace: bool) -> None:
    """Create ``home`` empty, or refuse having written nothing (``--replace`` clears an old demo)."""
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        if not (replace and (home / MARKER).is_file()):
            held = "holds an earlier demo store (--replace rebuilds it)"
            other = "is not empty (choose an empty or new folder with --home)"
            what = held if (home / MARKER).is_file() else other
            raise Conflict(f"demo: {home} {what}; nothing was written")
        shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True, mode=0o700)


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

    def next_steps(self) -> None:
        """Where the store is, how its keys unlock, and commands that work against it."""
        home, deployment = self.settings.home, self.deployment
        entry_b, entry_c = self.ids["entry B"], self.ids["entry C"]
        say(f"[bold]12. Go on exploring.[/] The demo store is at {home} (SQLite, embedded).")
        say(f"   The deployment's id is {deployment}. Every officer's key file is in")
        say(f"   {self.settings.keys_dir}, encrypted with the demo passphrase '{DEMO_PASSPHRASE}'")
        say("   (a fixed demo value, not a secret). Try next:")
        unset = ["unset WATCHLIST_DATABASE_URL"] if os.environ.get("WATCHLIST_DATABASE_URL") else []
        for line in [
            *unset,
            *path_to_watchlist(),
            f"export WATCHLIST_HOME={shlex.quote(str(home))} WATCHLIST_PASSPHRASE={DEMO_PASSPHRASE}",
            "watchlist officer list",
            "watchlist entry list",
            f"watchlist entry history {entry_b}   # entry B: every event, signed",
            f"watchlist inclusion {entry_b} --at {format_instant(self.go_live)} "
            f"--known-at deployment:{deployment}   # entry B as the gate knew it",
            f"watchlist --as LEGAL-4001 deployment reconstruct {deployment} --format md",
            f"watchlist --as SUPT-2001 entry authorise {entry_c} "
            "--rationale 'Necessary and proportionate.'   # entry C, by another authoriser",
            "watchlist audit verify",
        ]:
            stdout.print(f"  {line}", markup=False)


def path_to_watchlist() -> list[str]:
    """A PATH line when this ``watchlist`` (e.g. ``.venv/bin/watchlist`` from make) is not on PATH."""
    script, on_path = Path(sys.argv[0]), shutil.which("watchlist")
    if script.name != "watchlist" or not script.is_file():
        return []  # run another way (python -m, a test runner): say nothing about PATH
    if on_path and Path(on_path).resolve() == script.resolve():
        return []
    return [f'export PATH={shlex.quote(str(script.resolve().parent))}:"$PATH"']


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
