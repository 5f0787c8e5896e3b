"""``watchlist demo``: build a small store from scratch, tell its story, and leave it to explore.

The story itself is in ``commands/demo_story.py``. This module chooses the home (``--home``, after
the command or before it, else ``WATCHLIST_HOME``, else ``./.demo``: never the temporary
directory), refuses a folder that is not empty (``--replace`` rebuilds an earlier demo store, and
only that), and ends by printing where the store is, the demo passphrase and the next commands to
try. The story's clock starts 38 days ago, so it ends just before the real now and later commands
carry on from there.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from commands.demo_story import DEMO_PASSPHRASE, Walkthrough, say
from commands.render import stdout
from commands.session import session_of
from governance import clock
from governance.application import WatchlistApp
from governance.errors import Conflict
from governance.integrity.sealing import MasterKey
from governance.storage.settings import StoreSettings
from governance.times import format_instant

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
    next_steps(walk)


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


def next_steps(walk: Walkthrough) -> None:
    """Where the store is, how its keys unlock, and commands that work against it."""
    home, deployment = walk.settings.home, walk.deployment
    entry_b, entry_c = walk.ids["entry B"], walk.ids["entry C"]
    say(f"[bold]12. Go on exploring.[/] The demo store is at {home} (SQLite, embedded).")
    say(f"   The deployment's id is {deployment}. Every officer's key file is in")
    say(f"   {walk.settings.keys_dir}, encrypted with the demo passphrase '{DEMO_PASSPHRASE}'")
    say("   (a fixed demo value, not a secret). Try next:")
    unset = ["unset WATCHLIST_DATABASE_URL"] if os.environ.get("WATCHLIST_DATABASE_URL") else []
    for line in [
        *unset,
        *path_to_watchlist(),
        f"export WATCHLIST_HOME={shlex.quote(str(home))} WATCHLIST_PASSPHRASE={DEMO_PASSPHRASE}",
        "watchlist officer list",
        "watchlist entry list",
        f"watchlist entry history {entry_b}   # entry B: every event, signed",
        f"watchlist inclusion {entry_b} --at {format_instant(walk.go_live)} "
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
