"""Command-line start-up benchmark: each command as its own process, against ``import typer``.

Builds (or reuses) a store of 10,000 entries (three events each) through the real application
(``bench.build``), then runs, as separate processes of the installed ``watchlist`` script, several
interleaved rounds of:
- the baseline ``python -c "import typer"`` (what any Typer command line pays before it starts);
- ``watchlist --help`` (target <= 1.5 x the baseline);
- ``watchlist entry show ID --json`` and ``watchlist inclusion ID --at T --json`` (<= 3 x);
- a signed ``watchlist entry verify-source ID --status live --json`` (<= 4 x): it unlocks the
  officer's encrypted key file, checks the officer and writes one event (each round on another
  entry, so that no entry the bench reads grows with the rounds).
Each figure is the median wall-clock time of its rounds; interleaving makes any drift of the
machine's speed fall on every command alike. Every command is run once untimed first, so Python's
bytecode caches exist as in an installed package (the children run without
``PYTHONDONTWRITEBYTECODE``) and the projection has caught up with the store; after that each
``inclusion`` projects the one event the previous round's ``verify-source`` wrote, as a read after a
write does. For reference (no target), the bench also times a one-command Typer app with a text
argument and a flag, run as Typer runs it: Typer 0.29 converts every value with a pydantic adapter,
which ``commands.startup`` avoids for this CLI's parameters.

    python -m bench.cli [--store bench/out/store-10k] [--entries 10000] [--rounds 21]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.build import START, build
from bench.common import machine
from governance.application import WatchlistApp
from governance.integrity import keys
from governance.storage.settings import StoreSettings
from governance.times import format_instant

PASSPHRASE = "bench-passphrase"  # a bench store's key, never a real one
CUSTODIAN = "PC-1"
TARGETS = {"--help": 1.5, "entry show": 3.0, "inclusion": 3.0, "entry verify-source": 4.0}
ONE_COMMAND_APP = """
import sys, typer
app = typer.Typer(add_completion=False, rich_markup_mode=None)
@app.command()
def show(entry: str, as_json: bool = typer.Option(False, "--json")) -> None:
    print(entry)
sys.argv = ["show", "an-entry-id", "--json"]
app()
"""


def store(path: Path, entries: int) -> list[str]:
    """Reuse the store built at ``path`` or build it; return its entry ids."""
    marker = path / "built.txt"
    if not marker.exists():
        info = build(path, entries, 3)
        marker.write_text(f"{info['seconds']:.1f} seconds to build\n")
        print(
            f"built {info['entries']:,} entries ({info['events']:,} events) in {info['seconds']:.0f} s"
        )
    app = WatchlistApp(StoreSettings(path))
    ids = [str(n.originator_id) for n in app.notifications(["watchlist:Entry.Proposed"])]
    app.close()
    return ids


def custodian_key(settings: StoreSettings) -> None:
    """The custodian's key as the CLI reads it: encrypted PEM in the home's keys folder."""
    path = settings.officer_key_path(CUSTODIAN)
    if path.exists():
        return
    key = serialization.load_der_private_key(
        (settings.home / f"{CUSTODIAN}.der").read_bytes(), None
    )
    assert isinstance(key, Ed25519PrivateKey)
    keys.write_private_key(path, key, PASSPHRASE)


def commands(home: Path, entry: str, other: str) -> dict[str, list[str]]:
    """The command lines to time, by name (the baseline first); ``other`` is the entry written."""
    watchlist = str(Path(sys.executable).parent / "watchlist")
    at = format_instant(START + timedelta(days=1))
    prefix = [watchlist, "--home", str(home)]
    return {
        "import typer": [sys.executable, "-c", "import typer"],
        "one-command Typer app": [sys.executable, "-c", ONE_COMMAND_APP],
        "--help": [watchlist, "--help"],
        "entry show": [*prefix, "entry", "show", entry, "--json"],
        "inclusion": [*prefix, "inclusion", entry, "--at", at, "--json"],
        "entry verify-source": [
            *prefix, "--as", CUSTODIAN, "entry", "verify-source", other, "--status", "live", "--json",
        ],
    }  # fmt: skip


def run(command: list[str], env: dict[str, str]) -> float:
    """Seconds from starting the process to its exit; a failure stops the bench."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()}")
    if command[-1] == "--json":
        json.loads(done.stdout)  # one JSON document, as the contract says
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, default=Path("bench/out/store-10k"))
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    home = args.store.resolve()
    ids = store(home, args.entries)
    entry, written = ids[len(ids) // 2], ids[: args.rounds + 1]
    custodian_key(StoreSettings(home))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHLIST_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["WATCHLIST_PASSPHRASE"] = PASSPHRASE
    for command in commands(home, entry, written[-1]).values():
        run(command, env)  # untimed: bytecode caches, projection catch-up
    times: dict[str, list[float]] = {name: [] for name in commands(home, entry, entry)}
    for round_ in range(args.rounds):
        for name, command in commands(home, entry, written[round_]).items():
            times[name].append(run(command, env))
    medians = {name: statistics.median(found) for name, found in times.items()}
    baseline = medians["import typer"]
    print(f"machine: {machine()}")
    print(f"store: {home.name}, {args.entries:,} entries; {args.rounds} rounds, medians")
    print(f"baseline python -c 'import typer': {baseline * 1000:.0f} ms")
    app = medians["one-command Typer app"]
    print(f"reference, a one-command Typer app: {app * 1000:.0f} ms, ratio {app / baseline:.2f}")
    for name, target in TARGETS.items():
        ratio = medians[name] / baseline
        verdict = "met" if ratio <= target else "NOT met"
        print(f"watchlist {name}: {medians[name] * 1000:.0f} ms, ratio {ratio:.2f} (target <= {target}: {verdict})")  # fmt: skip


if __name__ == "__main__":
    main()
